// Whether a URL or origin is one of kju's own pages (app://kju). Parsed, never prefix-matched: a
// prefix without the trailing `/` also matches `app://kjuevil.example`. Pure; no electron import, so
// it is tested under plain Node. Main process event loop.
import { APP_ORIGIN } from '../ipc/channels.js';

const APP = new URL(APP_ORIGIN);

/** true for `app://kju`, `app://kju/` and any page under it; false for other hosts, ports or user info. */
export function isAppUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  return u.protocol === APP.protocol && u.host.toLowerCase() === APP.host && !u.username && !u.password;
}

/** Permissions a VM window may use: capturing the mouse and keyboard for the guest, fullscreen. */
const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['pointerLock', 'keyboardLock', 'fullscreen', 'clipboard-sanitized-write']);

/** The session's permission request and check handlers: a permission of that list, asked by one of our pages (URL or origin). */
export function permissionAllowed(urlOrOrigin: string, permission: string): boolean {
  return isAppUrl(urlOrOrigin) && ALLOWED_PERMISSIONS.has(permission);
}
