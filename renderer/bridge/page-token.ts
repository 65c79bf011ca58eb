// Where a `kju serve` page finds its token: the URL it was opened with. Pure string work, so it
// is tested under Node; the page calls it once on load (ws-bridge.ts pageToken).

/**
 * The token carried by a page URL: `#token=T`, `#/vm/x?token=T` (hash route with a query) or the
 * older `?token=T`. `strippedHref` is the same URL without it, for history.replaceState.
 */
export function takeTokenFromUrl(href: string): { token: string | null; strippedHref: string } {
  const url = new URL(href);
  let token: string | null = null;
  const hash = url.hash.replace(/^#/, '');
  const q = hash.startsWith('/') ? hash.indexOf('?') : -1;
  const route = hash.startsWith('/') ? (q >= 0 ? hash.slice(0, q) : hash) : '';
  const hashParams = new URLSearchParams(hash.startsWith('/') ? (q >= 0 ? hash.slice(q + 1) : '') : hash);
  if (hashParams.has('token')) {
    token = hashParams.get('token');
    hashParams.delete('token');
  }
  if (url.searchParams.has('token')) {
    token ??= url.searchParams.get('token');
    url.searchParams.delete('token');
  }
  const rest = hashParams.toString();
  url.hash = route ? (rest ? `${route}?${rest}` : route) : rest;
  return { token: token || null, strippedHref: url.href };
}
