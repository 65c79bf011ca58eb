// Whether a folder's file system keeps user.* extended attributes (a read of one that does not
// exist: nothing is written, read-only folders work too). Throws NativeError for a missing or
// unreadable path.
import { binding } from './binding.js';

export function userXattrSupported(path: string): boolean {
  return binding().userXattrSupported(path);
}
