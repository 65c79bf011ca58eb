// The public API of native/ (fd passing, shared-memory mappings, libvirt), re-exported from its parts; importers outside
// native/ use only this file. Each thread gets its own addon instance, cleaned up (fds closed, mappings restored) when it exits.
export { NativeError } from './errors.js';
export { FdSocket, closeFd, connectUnix, socketpair } from './fd-socket.js';
export { FdServer, listenUnix, type FdServerEvents } from './fd-server.js';
export { Mapping, fileSize, memfdCreate, type Rect } from './mapping.js';
export { FileLock } from './file-lock.js';
export { userXattrSupported } from './xattr.js';
export { LibvirtConnection, libvirtVersion, type LibvirtDomainRow } from './libvirt.js';
