// Integration (real libvirtd and virtlogd started here, real QEMU under TCG, the demo guest, the
// CLI as built: bin/kju.mjs → app/out): `kju -c qemu:///system` lists a libvirt domain with a D-Bus
// display and its state, starts it, sees a change made with virsh, stops it (the demo guest ignores
// the ACPI button, so a plain stop times out and names --force), and turns bad input into one line
// with its fix, exit 1. Runs as root only, and only where no libvirtd runs already; the daemons and
// the domain go at the end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureDemoGuest } from '../testing/guest.js';
import { kjuScratch, repoRoot } from '../testing/kju-scratch.js';
import { probeLibvirt } from './libvirt-domains.js';

const URI = 'qemu:///system';
const SOCKETS = ['/run/libvirt/libvirt-sock', '/run/libvirt/virtlogd-sock'];
const skip =
  process.getuid?.() !== 0
    ? 'needs root (libvirtd and qemu:///system)'
    : 'missing' in probeLibvirt()
      ? 'libvirt is not installed here (bash scripts/setup.sh installs it)'
      : existsSync(SOCKETS[0]!)
        ? `a libvirtd runs already (${SOCKETS[0]}): this test starts and stops its own`
        : false;

const dir = mkdtempSync(join(tmpdir(), 'kju-libvirt-it-'));
const s = kjuScratch('kju-libvirt-cli', { bundle: true });
const domain = `kju-it-${process.pid}`;
const daemons: { name: string; pidFile: string }[] = [
  { name: 'virtlogd', pidFile: join(dir, 'virtlogd.pid') },
  { name: 'libvirtd', pidFile: join(dir, 'libvirtd.pid') },
];

async function until(what: string, ok: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !ok(); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
  }
}

function virsh(...args: string[]): string {
  const r = spawnSync('virsh', ['-c', URI, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `virsh ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Alive and not a zombie (a daemon whose parent exited is reaped by whoever adopted it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const daemonPid = (d: { pidFile: string }) => (existsSync(d.pidFile) ? Number(readFileSync(d.pidFile, 'utf8').trim()) : undefined);

async function stopDaemons(): Promise<void> {
  for (const d of [...daemons].reverse()) {
    const pid = daemonPid(d);
    if (!pid || !alive(pid)) continue;
    process.kill(pid, 'SIGTERM');
    await until(`${d.name} (pid ${pid}) ended`, () => !alive(pid), 15_000).catch(() => alive(pid) && process.kill(pid, 'SIGKILL'));
  }
}

/** `kju -c URI list` as rows: name → state. */
function listed(): Map<string, string> {
  const out = s.ok('-c', URI, 'list');
  return new Map(
    out
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(/\s+/) as [string, string]),
  );
}

describe('kju -c qemu:///system on a libvirt domain with a D-Bus display', { skip }, () => {
  before(async () => {
    const guest = await ensureDemoGuest();
    // libvirt runs QEMU as libvirt-qemu: the kernel and initrd must be readable by that user
    chmodSync(dir, 0o755);
    const kernel = join(dir, 'vmlinuz');
    const initrd = join(dir, 'initrd.img');
    copyFileSync(guest.kernel, kernel);
    copyFileSync(guest.initrd, initrd);
    chmodSync(kernel, 0o644);
    chmodSync(initrd, 0o644);
    for (const d of daemons) {
      const r = spawnSync(d.name, ['-d', '-p', d.pidFile], { encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 0, `${d.name} -d: ${r.stderr}`);
    }
    await until(`libvirt's sockets ${SOCKETS.join(', ')}`, () => SOCKETS.every((p) => existsSync(p)) && daemons.every((d) => daemonPid(d) !== undefined));
    const xml = join(dir, 'domain.xml');
    writeFileSync(
      xml,
      `<domain type='qemu'>
  <name>${domain}</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type><kernel>${kernel}</kernel><initrd>${initrd}</initrd><cmdline>${guest.append}</cmdline></os>
  <devices>
    <graphics type='dbus'/>
    <video><model type='virtio'/></video>
  </devices>
</domain>
`,
    );
    virsh('define', xml);
  });

  after(async () => {
    // also when a test failed: nothing of this test may stay (the domain, its QEMU, the daemons)
    if (daemons.every((d) => alive(daemonPid(d) ?? 0))) {
      spawnSync('virsh', ['-c', URI, 'destroy', domain], { timeout: 60_000 });
      spawnSync('virsh', ['-c', URI, 'undefine', domain], { timeout: 60_000 });
    }
    await stopDaemons();
    s.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the defined domain as stopped', () => {
    assert.equal(listed().get(domain), 'stopped');
  });

  it('start: running; starting it again: already running, exit 3', async () => {
    assert.equal(s.ok('-c', URI, 'start', domain), `started ${domain}\n`);
    await until('running in kju list', () => listed().get(domain) === 'running', 30_000);
    // libvirt runs a dbus-daemon for the D-Bus display: <id>-<name>-dbus.sock
    assert.ok(
      readdirSync('/run/libvirt/qemu/dbus').some((f) => f.endsWith(`-${domain}-dbus.sock`)),
      'the D-Bus display bus',
    );
    const again = s.kju('-c', URI, 'start', domain);
    assert.equal(again.code, 3, again.stderr);
    assert.match(again.stderr, /^kju: cannot start ".*" on qemu:\/\/\/system: .*already running\n$/);
  });

  it('a state change made with virsh shows in the next kju list', () => {
    virsh('suspend', domain);
    assert.equal(listed().get(domain), 'paused');
    virsh('resume', domain);
    assert.equal(listed().get(domain), 'running');
  });

  it('stop: the guest ignores the power button, so it times out (exit 1, names --force); --force stops it', async () => {
    const r = s.kju('-c', URI, 'stop', domain, '--timeout', '2');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`did not power off within 2 s.*kju -c qemu:///system stop ${domain} --force`));
    assert.equal(listed().get(domain), 'running');
    assert.equal(s.ok('-c', URI, 'stop', '--force', domain), 'stopped\n');
    await until('stopped in kju list', () => listed().get(domain) === 'stopped');
    assert.equal(spawnSync('pgrep', ['-f', `guest=${domain}`]).status, 1, "the domain's QEMU is gone");
  });

  it('bad input: an unknown domain, a malformed URI, libvirt not installed: one line and its fix, exit 1, nothing changed', () => {
    const lines = (r: { stderr: string }) => r.stderr.trimEnd().split('\n');
    const unknown = s.kju('-c', URI, 'start', 'no-such-domain');
    assert.equal(unknown.code, 1);
    assert.deepEqual(lines(unknown), ['kju: qemu:///system has no domain "no-such-domain"', '"kju -c qemu:///system list" shows its domains']);
    for (const uri of ['qemu:/system', 'qemu:///sytem', 'qemu+ssh:///system']) {
      const bad = s.kju('-c', uri, 'list');
      assert.equal(bad.code, 1, uri);
      assert.equal(lines(bad).length, 2, bad.stderr);
      assert.match(lines(bad)[0]!, new RegExp(`^kju: "${uri.replace(/[+]/g, '\\+')}" is not a connection kju can use: `));
      assert.match(lines(bad)[1]!, /^write qemu:\/\/\/system, qemu:\/\/\/session or qemu\+ssh:/);
    }
    // libvirt.so.0 hidden by an empty file bind-mounted over it, in a private mount namespace
    const lib = spawnSync('sh', ['-c', 'ldconfig -p | grep -m1 "libvirt.so.0 " | sed "s/.*=> //"'], { encoding: 'utf8' }).stdout.trim();
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', empty, lib, process.execPath, 'bin/kju.mjs', '-c', URI, 'list'], {
      cwd: repoRoot,
      env: s.env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(lines(r).length, 2, r.stderr);
    assert.match(lines(r)[0]!, /^kju: libvirt is not installed here: .*libvirt\.so\.0.*: kju cannot reach qemu:\/\/\/system$/);
    assert.match(lines(r)[1]!, /apt install libvirt-daemon-driver-qemu libvirt-clients/);
    assert.equal(listed().get(domain), 'stopped', 'nothing changed');
  });

  it("with libvirt's daemon stopped: cannot reach it, the fix starts it; the daemons are gone", async () => {
    virsh('undefine', domain);
    await stopDaemons();
    for (const d of daemons) assert.equal(alive(daemonPid(d)!), false, `${d.name} ended`);
    const r = s.kju('-c', URI, 'list');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^kju: cannot reach libvirt at qemu:\/\/\/system: Failed to connect socket .*\nstart libvirt's daemon: /);
    assert.equal(existsSync(`/etc/libvirt/qemu/${domain}.xml`), false, 'the domain is undefined');
  });
});
