import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';

import { isAlive, killVerified, processStartTime, verifiedPid, writeLaunchStamp } from './pid-alive.js';

const dir = mkdtempSync(join(tmpdir(), 'kju-pid-'));
after(() => rmSync(dir, { recursive: true, force: true }));

it('kills only the process the launch stamp names: a pid file naming another process (a reused pid) is refused', async () => {
  const launched = spawn('sleep', ['60'], { stdio: 'ignore' });
  const other = spawn('sleep', ['60'], { stdio: 'ignore' });
  const pidFile = join(dir, 'qemu.pid');
  const stamp = join(dir, 'qemu.launch');
  try {
    writeLaunchStamp(stamp, launched.pid!);
    assert.match(processStartTime(launched.pid!) ?? '', /^\d+$/);
    writeFileSync(pidFile, `${other.pid}\n`);
    assert.equal(verifiedPid(pidFile, stamp), undefined, 'the pid file names a process we did not launch');
    assert.equal(await killVerified(pidFile, stamp), false);
    assert.ok(isAlive(other.pid), 'the other process is untouched');
    // same pid, another start time: what a reused pid looks like
    writeFileSync(stamp, `${launched.pid} 1\n`);
    writeFileSync(pidFile, `${launched.pid}\n`);
    assert.equal(verifiedPid(pidFile, stamp), undefined);
    writeLaunchStamp(stamp, launched.pid!);
    assert.equal(verifiedPid(pidFile, stamp), launched.pid);
    launched.kill('SIGSTOP'); // a hung QEMU: SIGKILL still ends it
    assert.equal(await killVerified(pidFile, stamp), true);
    assert.equal(isAlive(launched.pid), false);
  } finally {
    launched.kill('SIGKILL');
    other.kill('SIGKILL');
  }
});
