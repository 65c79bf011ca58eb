// Child side of cross-process.test.ts. fd 3 is its end of a socketpair. Protocol (text lines):
//   parent: "map <offset> <length>" + a memfd (SCM_RIGHTS)  -> child maps it, writes pattern A, says "wrote <mode>"
//   parent: "check"  (after writing pattern B through its own view) -> child says "ok" or "bad <index>"
import { FdSocket, Mapping, closeFd } from '../index.js';
import { onLines } from './line-reader.js';

export const patternA = (i: number): number => (i * 7 + 1) & 0xff;
export const patternB = (i: number): number => (i * 11 + 3) & 0xff;

if (process.argv[2] === 'child') {
  const sock = new FdSocket(3);
  const fds: number[] = [];
  let mapping: Mapping | undefined;
  sock.on('fds', (got: number[]) => fds.push(...got));
  onLines(sock, (line) => {
    const [cmd, ...args] = line.split(' ');
    if (cmd === 'map') {
      const fd = fds.shift();
      if (fd === undefined) throw new Error('map without an fd');
      mapping = Mapping.open(fd, Number(args[0]), Number(args[1]), { writable: true });
      closeFd(fd); // the mapping keeps the file
      for (let i = 0; i < mapping.length; i++) mapping.view[i] = patternA(i);
      sock.write(`wrote ${mapping.mode}\n`);
    } else if (cmd === 'check') {
      const v = mapping!.view;
      let bad = -1;
      for (let i = 0; i < v.length && bad < 0; i++) if (v[i] !== patternB(i)) bad = i;
      sock.write(bad < 0 ? 'ok\n' : `bad ${bad}\n`);
      mapping!.release();
    }
  });
  sock.on('end', () => sock.end());
}
