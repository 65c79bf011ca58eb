// Routing by URL hash: `#/` the library, `#/vm/<id>` one VM's window. Anything after `?` in the
// hash (e.g. a serve token) is not part of the route.
import { useSyncExternalStore } from 'react';

export type Route = { name: 'library' } | { name: 'vm'; id: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '').split('?')[0];
  const m = /^\/vm\/([^/]+)\/?$/.exec(path);
  if (m) {
    try {
      return { name: 'vm', id: decodeURIComponent(m[1]) };
    } catch {
      return { name: 'library' };
    }
  }
  return { name: 'library' };
}

/** The hash link of a VM's window, keeping the hash's query part (if any) of this window. */
export function vmHref(id: string, currentHash = location.hash): string {
  const q = currentHash.indexOf('?');
  return `#/vm/${encodeURIComponent(id)}${q >= 0 ? currentHash.slice(q) : ''}`;
}

/** The display head a VM window shows, from the hash's query (`#/vm/<id>?head=1`); 0 when absent. */
export function headFromHash(hash: string): number {
  const m = /[?&]head=(\d{1,2})(&|$)/.exec(hash);
  return m ? Number(m[1]) : 0;
}

/**
 * Whether this VM window plays the VM's sound: only the window of head 0 (the desktop app opens one
 * window per head, the others with `?head=k`), so a VM with several heads is heard once. The
 * browser's Display switcher changes the store's head, not the hash: its one window keeps playing.
 */
export function playsSound(hash: string): boolean {
  return headFromHash(hash) === 0;
}

export function libraryHref(currentHash = location.hash): string {
  const q = currentHash.indexOf('?');
  return `#/${q >= 0 ? currentHash.slice(q) : ''}`;
}

const subscribe = (cb: () => void) => {
  window.addEventListener('hashchange', cb);
  return () => window.removeEventListener('hashchange', cb);
};

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, () => location.hash);
  return parseHash(hash);
}
