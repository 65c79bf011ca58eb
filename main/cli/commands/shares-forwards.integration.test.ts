// Integration (real QEMU under TCG, the demo guest booted once with kju.net, the bundled CLI):
// shared folders over virtio-9p seen from inside the guest (host→guest, guest→host, :ro refused,
// no way out of the folder by ../ or a symlink), and busybox httpd in the guest answering on a
// forwarded 127.0.0.1 port, with forwards added and removed live by `kju forward`.
// Needs the app built (node scripts/build.mjs) so bin/kju.mjs runs this tree's code.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { ensureDemoGuest } from '../../testing/guest.js';
import { SerialConsole } from '../../testing/serial-console.js';
import { shareWithQemuUser } from '../../testing/qemu-user-share.js';
import { fileVmRuntimeDir } from '../../qemu/runtime-dir.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const kjuBin = join(repo, 'bin/kju.mjs');
const scratch = mkdtempSync(join(tmpdir(), 'kju-links-it-'));
const runtime = join(scratch, 'run');
mkdirSync(runtime, { mode: 0o700 });
const env = { ...process.env, XDG_RUNTIME_DIR: runtime, XDG_STATE_HOME: join(scratch, 'state'), KJU_LIBRARY: join(scratch, 'library'), KJU_ACCEL: 'tcg' };
const rwDir = join(scratch, 'rw');
const roDir = join(scratch, 'ro');
const outside = join(scratch, 'outside');
const secret = `secret-${randomBytes(6).toString('hex')}`;

function kju(args: string[]) {
  const r = spawnSync(process.execPath, [kjuBin, ...args], { env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** GET over the forwarded port; resolves with status and body, or the connection error's code. */
async function httpGet(port: number, path: string): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return { error: cause?.code ?? String(err) };
  }
}

describe('integration: shared folders and port forwards in the demo guest', () => {
  let runProc: ChildProcess;
  let runOutput = '';
  let vmJson: string;
  let serial: SerialConsole;
  let bootPort: number;

  before(async () => {
    const guest = await ensureDemoGuest();
    for (const d of [rwDir, roDir, outside]) mkdirSync(d);
    for (const d of [rwDir, roDir]) shareWithQemuUser(d);
    writeFileSync(join(outside, 'secret.txt'), `${secret}\n`);
    writeFileSync(join(scratch, 'secret.txt'), `${secret}\n`);
    // links that point out of the shared folder, relative and absolute
    symlinkSync('../outside/secret.txt', join(rwDir, 'rel-link'));
    symlinkSync(join(outside, 'secret.txt'), join(rwDir, 'abs-link'));
    symlinkSync(outside, join(rwDir, 'dir-link'));
    bootPort = await freePort();
    vmJson = join(scratch, 'links.json');
    writeFileSync(
      vmJson,
      JSON.stringify({
        name: 'links-demo',
        memoryMiB: 256,
        cpus: 1,
        display: 'virtio-vga',
        kernel: guest.kernel,
        initrd: guest.initrd,
        append: `${guest.append} kju.net`,
        shares: [
          { path: rwDir, readOnly: false },
          { path: roDir, readOnly: true },
        ],
        network: { model: 'virtio-net-pci', forwards: [{ proto: 'tcp', hostAddr: '127.0.0.1', hostPort: bootPort, guestPort: 80 }] },
      }),
    );
    runProc = spawn(process.execPath, [kjuBin, 'run', vmJson], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    runProc.stdout!.on('data', (d: Buffer) => (runOutput += d.toString()));
    runProc.stderr!.on('data', (d: Buffer) => (runOutput += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!/started \(QEMU pid \d+\)/.test(runOutput)) {
      if (Date.now() > deadline || runProc.exitCode !== null) throw new Error(`kju run did not start: ${runOutput}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    serial = await SerialConsole.connect(fileVmRuntimeDir(vmJson, 'links-demo', join(runtime, 'kju')).serialSocket);
    await serial.waitFor(/kju# /, 90_000);
    await serial.run('mkdir -p /mnt/rw /mnt/ro && mount -t 9p -o trans=virtio,version=9p2000.L share0 /mnt/rw && mount -t 9p -o trans=virtio,version=9p2000.L share1 /mnt/ro');
  });

  after(async () => {
    serial?.close();
    if (runProc && runProc.exitCode === null) {
      kju(['stop', vmJson]);
      await Promise.race([new Promise((r) => runProc.once('exit', r)), new Promise((r) => setTimeout(r, 10_000))]);
      if (runProc.exitCode === null) runProc.kill('SIGKILL');
    }
    spawnSync('pkill', ['-9', '-f', join(runtime, 'kju')]);
    rmSync(scratch, { recursive: true, force: true });
  });

  test('a file the host writes is read in the guest; a file the guest writes appears on the host', async () => {
    const fromHost = `host-${randomBytes(6).toString('hex')}`;
    writeFileSync(join(rwDir, 'from-host.txt'), `${fromHost}\n`);
    assert.equal(await serial.run('cat /mnt/rw/from-host.txt'), fromHost);
    const fromGuest = `guest-${randomBytes(6).toString('hex')}`;
    await serial.run(`echo ${fromGuest} > /mnt/rw/from-guest.txt && mkdir /mnt/rw/made-in-guest && sync`);
    assert.equal(readFileSync(join(rwDir, 'from-guest.txt'), 'utf8'), `${fromGuest}\n`);
    assert.ok(existsSync(join(rwDir, 'made-in-guest')), 'the folder made in the guest is on the host');
  });

  test(':ro shares are readable and refuse guest writes', async () => {
    const token = `ro-${randomBytes(6).toString('hex')}`;
    writeFileSync(join(roDir, 'readme.txt'), `${token}\n`);
    assert.equal(await serial.run('cat /mnt/ro/readme.txt'), token);
    const write = await serial.run('echo x > /mnt/ro/new.txt; echo status=$?', { allowFailure: true });
    assert.match(write, /Read-only file system/);
    assert.match(write, /status=[1-9]/);
    const del = await serial.run('rm /mnt/ro/readme.txt; echo status=$?', { allowFailure: true });
    assert.match(del, /status=[1-9]/);
    assert.equal(readFileSync(join(roDir, 'readme.txt'), 'utf8'), `${token}\n`, 'the host file is untouched');
    assert.ok(!existsSync(join(roDir, 'new.txt')));
  });

  test('the guest cannot reach outside the shared folder, by ../ or by a symlink', async () => {
    // ../ from the mount's root is the guest's own /mnt, never the host folder's parent
    const up = await serial.run('ls /mnt/rw/..; cat /mnt/rw/../secret.txt /mnt/rw/../outside/secret.txt', { allowFailure: true });
    assert.match(up, /\brw\b/);
    assert.match(up, /\bro\b/);
    // host links do not open in the guest (mapped security models read a link's text from a plain
    // file, and refuse a real host link: ELOOP)
    const links = await serial.run('cat /mnt/rw/rel-link /mnt/rw/abs-link /mnt/rw/dir-link/secret.txt', { allowFailure: true });
    assert.equal(links.split('\n').filter((l) => /No such file or directory|Too many levels of symbolic links/.test(l)).length, 3, links);
    // and a link the guest makes to a host path does not lead there either
    await serial.run(`ln -s ${outside}/secret.txt /mnt/rw/guest-link`);
    const made = await serial.run('cat /mnt/rw/guest-link', { allowFailure: true });
    for (const out of [up, links, made]) assert.ok(!out.includes(secret), `the host secret leaked into the guest:\n${out}`);
    // the link the guest made is a plain file on the host, not a link
    assert.ok(lstatSync(join(rwDir, 'guest-link')).isFile());
  });

  test('busybox httpd in the guest answers on the forwarded 127.0.0.1 port', async () => {
    const token = `www-${randomBytes(6).toString('hex')}`;
    await serial.run(`echo ${token} > /www/token.txt`);
    // the guest brings eth0 up during boot; give slirp a moment on a slow TCG boot
    let known = await httpGet(bootPort, '/kju.txt');
    for (let i = 0; i < 10 && !('status' in known && known.status === 200); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      known = await httpGet(bootPort, '/kju.txt');
    }
    assert.deepEqual(known, { status: 200, body: 'kju demo guest httpd\n' });
    assert.deepEqual(await httpGet(bootPort, '/token.txt'), { status: 200, body: `${token}\n` });
  });

  test('kju forward adds, lists and removes a forward live, and the new port reaches httpd', async () => {
    const port = await freePort();
    const before = await httpGet(port, '/kju.txt');
    assert.ok('error' in before, `nothing should answer on ${port} yet: ${JSON.stringify(before)}`);

    const add = kju(['forward', 'add', vmJson, `tcp:${port}:80`]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, new RegExp(`added tcp:127\\.0\\.0\\.1:${port}:80`));
    const list = kju(['forward', 'list', vmJson, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const forwards = JSON.parse(list.stdout) as { proto: string; hostAddr: string; hostPort: number; guestPort: number }[];
    assert.deepEqual(forwards.map((f) => `${f.proto}:${f.hostAddr}:${f.hostPort}:${f.guestPort}`).sort(), [`tcp:127.0.0.1:${bootPort}:80`, `tcp:127.0.0.1:${port}:80`].sort());
    assert.deepEqual(await httpGet(port, '/kju.txt'), { status: 200, body: 'kju demo guest httpd\n' });

    const remove = kju(['forward', 'remove', vmJson, `tcp:${port}`]);
    assert.equal(remove.code, 0, remove.stderr);
    const after = await httpGet(port, '/kju.txt');
    assert.ok('error' in after, `the removed forward still answers: ${JSON.stringify(after)}`);
    const again = kju(['forward', 'list', vmJson]);
    assert.equal(again.stdout.trim(), `tcp:127.0.0.1:${bootPort}:80`);
    // the boot-time forward is untouched
    assert.deepEqual(await httpGet(bootPort, '/kju.txt'), { status: 200, body: 'kju demo guest httpd\n' });
  });
});
