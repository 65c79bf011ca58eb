// The only file that loads kju_native.node (fd passing over SCM_RIGHTS and shared-memory mappings, which
// Node cannot do itself); each thread (main, worker_thread, Electron window) loads its own addon instance.
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { NativeError } from './errors.js';

export type ReadCallback = (err: NativeError | null, fds: number[] | undefined, chunk: Buffer | undefined) => void;

export interface FdSocketHandle {
  readStart(): void;
  readStop(): void;
  /** bytes sent, or -1 for EAGAIN (nothing sent) */
  send(data: Uint8Array, fds?: number[]): number;
  waitWritable(): void;
  shutdownWrite(): void;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface FdServerHandle {
  start(): void;
  stop(): void;
  close(): void;
  ref(): void;
  unref(): void;
}

export interface MappingHandle {
  readonly shared: boolean;
  readonly viewOffset: number;
  readonly reason: string | undefined;
  copyRects(stride: number, rects: Uint32Array, dst: Uint8Array): void;
  release(): void;
}

/** One domain as listDomains gives it: libvirt's numbers (virDomainState and its reason), id -1 when inactive. */
export interface LibvirtDomainRow {
  name: string;
  uuid: string;
  state: number;
  reason: number;
  id: number;
  persistent: boolean;
}

export interface LibvirtConnectionHandle {
  open(uri: string): Promise<void>;
  listDomains(): Promise<LibvirtDomainRow[]>;
  domainAction(name: string, action: 'start' | 'shutdown' | 'destroy'): Promise<void>;
  close(): void;
}

export interface Binding {
  init(classes: { NativeError: typeof NativeError }): void;
  socketpair(): [number, number];
  connectUnix(path: string): number;
  listenUnix(path: string, backlog: number): number;
  closeFd(fd: number): void;
  dupCloexec(fd: number): number;
  memfdCreate(name: string, size: number): number;
  fileSize(fd: number): number;
  flockExclusive(fd: number): boolean;
  userXattrSupported(path: string): boolean;
  readonly pageSize: number;
  readonly sharedViewSupported: boolean;
  FdSocketHandle: new (fd: number, onRead: ReadCallback, onWritable: () => void) => FdSocketHandle;
  FdServerHandle: new (fd: number, onAccept: (err: NativeError | null, fd: number | undefined) => void) => FdServerHandle;
  libvirtVersion(): { version: string; library: string };
  LibvirtConnectionHandle: new () => LibvirtConnectionHandle;
  MappingHandle: new (fd: number, offset: number, length: number, writable: boolean, target: Uint8Array | undefined, copyReason: string | undefined) => MappingHandle;
}

// A CJS bundle (the Electron preload) has no import.meta.url; fall back to its __filename.
const here: string = import.meta.url ?? pathToFileURL(__filename).href;

/** Paths tried, in order: next to the bundle (app/out/), the node-gyp output beside this file,
 *  then the same with app.asar -> app.asar.unpacked (Electron cannot dlopen from inside an asar). */
function candidatePaths(): string[] {
  const direct = [new URL('./kju_native.node', here), new URL('./build/Release/kju_native.node', here)].map((u) => fileURLToPath(u));
  const asar = `${sep}app.asar${sep}`;
  const unpacked = direct.filter((p) => p.includes(asar)).map((p) => p.replace(asar, `${sep}app.asar.unpacked${sep}`));
  return [...direct, ...unpacked];
}

let loaded: Binding | undefined;

/** Loads the addon on first use (so importing this file for types never fails). Throws an Error
 *  listing every path tried and why each failed. */
export function binding(): Binding {
  if (loaded) return loaded;
  const require = createRequire(here);
  const failures: string[] = [];
  for (const path of candidatePaths()) {
    try {
      const b = require(path) as Binding;
      b.init({ NativeError });
      loaded = b;
      return b;
    } catch (e) {
      failures.push(`  ${path}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`kju: cannot load the native addon kju_native.node (build it with \`npm run build:native\`). Tried:\n${failures.join('\n')}`);
}
