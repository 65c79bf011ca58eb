// Fault injection for tests: `KJU_TEST=1 KJU_TEST_KILL_AT=<point>` makes this process SIGKILL
// itself when it reaches `killPoint(<point>)`, so a test can stop kju at an exact step (the
// kill -9 a user might do) without timing races. Without KJU_TEST=1 it never fires.

export function killPoint(point: string): void {
  if (process.env.KJU_TEST !== '1') return;
  const at = process.env.KJU_TEST_KILL_AT;
  if (at && at.split(',').includes(point)) process.kill(process.pid, 'SIGKILL');
}
