// Which 9p security model a shared folder gets: mapped-xattr where its file system keeps user.*
// xattrs, mapped-file where it does not (vfat, exFAT, ramfs, some NFS). Decided by reading an xattr
// that does not exist (native userXattrSupported): nothing is written, read-only folders work too.
import { userXattrSupported } from '../../native/index.js';
import type { ShareSecurityModel } from './guest-links.js';

export function shareSecurityModel(path: string, probe: (path: string) => boolean = userXattrSupported): ShareSecurityModel {
  return probe(path) ? 'mapped-xattr' : 'mapped-file';
}
