// The shapes a peer connection and its fixed-call tap share (kept below both so they do not
// import each other): a decoded D-Bus message, and the byte stream under a connection.
import type { Duplex } from 'node:stream';

export interface DbusMessage {
  type: number;
  serial: number;
  flags?: number;
  path?: string;
  interface?: string;
  member?: string;
  signature?: string;
  body?: unknown[];
  fds?: number[];
  replySerial?: number;
  errorName?: string;
}

/** The byte stream under a connection: an FdSocket, or a test's scripted stream. Received fds come
 *  in an 'fds' event emitted before the chunk whose bytes they arrived with. */
export type PeerStream = Duplex & { writeWithFds(data: Uint8Array, fds: number[]): boolean };
