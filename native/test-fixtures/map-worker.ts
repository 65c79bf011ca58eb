// Worker side of worker.test.ts: maps the memfd it is given, posts the view's SharedArrayBuffer
// back, and echoes upper-cased text on its FdSocket end. Never releases anything itself: the
// test terminates it to prove the env cleanup hook does.
import { parentPort, workerData } from 'node:worker_threads';

import { FdSocket, Mapping } from '../index.js';

const { memfd, offset, length, sockFd } = workerData as { memfd: number; offset: number; length: number; sockFd: number };
const mapping = Mapping.open(memfd, offset, length);
const sock = new FdSocket(sockFd);
sock.on('data', (chunk: Buffer) => sock.write(chunk.toString().toUpperCase()));
parentPort!.postMessage({ mode: mapping.mode, buffer: mapping.view.buffer, byteOffset: mapping.view.byteOffset });
