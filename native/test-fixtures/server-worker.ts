// Worker side of fd-server.test.ts: listens at the path it is given and echoes upper-cased text on
// every connection. Never closes anything itself: the test terminates it to prove the env cleanup
// hook does.
import { parentPort, workerData } from 'node:worker_threads';

import { FdServer } from '../index.js';

const { path } = workerData as { path: string };
const server = FdServer.listen(path);
server.on('connection', (sock) => sock.on('data', (chunk: Buffer) => sock.write(chunk.toString().toUpperCase())));
parentPort!.postMessage({ fd: server.fd });
