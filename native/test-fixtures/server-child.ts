// Child process of fd-server.test.ts (run under a low `ulimit -n`). Modes:
//   emfile <dir>: fills the fd table while a connection is pending, expects 'acceptError' EMFILE,
//                 frees one fd, expects the retried accept to deliver the connection. Prints JSON.
//   close <dir>:  listens and closes at once; the process must exit by itself (no poll left).
//   open <dir>:   listens and does nothing; the process must stay alive (the poll holds the loop).
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';

import { FdServer, connectUnix, type NativeError } from '../index.js';

const [mode, dir] = process.argv.slice(2);
const server = FdServer.listen(join(dir, 's.sock'), { retryMs: 50 });
if (mode === 'close') server.close();
if (mode === 'emfile') {
  const client = connectUnix(join(dir, 's.sock'));
  const fillers: number[] = [];
  for (;;) {
    try {
      fillers.push(openSync('/dev/null', 'r'));
    } catch {
      break;
    }
  }
  const errors: string[] = [];
  server.on('acceptError', (err: NativeError) => {
    errors.push(err.errnoName);
    if (errors.length === 1) closeSync(fillers.pop()!); // room for exactly the pending connection
  });
  server.on('connection', (sock) => {
    sock.destroy();
    server.close();
    for (const fd of fillers) closeSync(fd);
    closeSync(client);
    console.log(JSON.stringify({ errors, fillers: fillers.length }));
  });
}
