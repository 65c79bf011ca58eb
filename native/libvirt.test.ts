// The libvirt binding against libvirt's built-in test driver (test:///default: one running domain
// "test", in this process, no daemon); the real QEMU driver is covered by
// main/libvirt/libvirt-cli.integration.test.ts. Skipped where libvirt is not installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { LibvirtConnection, NativeError, libvirtVersion } from './index.js';

const installed = (() => {
  try {
    libvirtVersion();
    return true;
  } catch {
    return false;
  }
})();
const skip = installed ? false : 'libvirt is not installed here (bash scripts/setup.sh installs it)';

const RUNNING = 1;
const SHUTOFF = 5;

async function rejectsWith(p: Promise<unknown>, check: (e: NativeError) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof NativeError, `a NativeError: ${String(e)}`);
    check(e);
    return true;
  });
}

describe('libvirt binding (test:///default)', { skip }, () => {
  it('says which libvirt it loaded', () => {
    const v = libvirtVersion();
    assert.match(v.version, /^\d+\.\d+\.\d+$/);
    assert.match(v.library, /libvirt/);
  });

  it('lists, destroys and starts a domain, with its state', async () => {
    const c = await LibvirtConnection.open('test:///default');
    try {
      const [d, ...rest] = await c.listDomains();
      assert.equal(rest.length, 0);
      assert.equal(d!.name, 'test');
      assert.match(d!.uuid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(d!.state, RUNNING);
      assert.ok(d!.id > 0 && d!.persistent);
      await c.destroy('test');
      const off = (await c.listDomains())[0]!;
      assert.deepEqual([off.state, off.id], [SHUTOFF, -1]);
      await c.start('test');
      assert.equal((await c.listDomains())[0]!.state, RUNNING);
      await c.shutdown('test');
      assert.equal((await c.listDomains())[0]!.state, SHUTOFF, 'the test driver powers off at once');
    } finally {
      c.close();
    }
  });

  it("an unknown domain, a refused action and a closed connection are errors with libvirt's message", async () => {
    const c = await LibvirtConnection.open('test:///default');
    await rejectsWith(c.start('no-such-vm'), (e) => {
      assert.equal(e.errnoName, 'ELIBVIRT');
      assert.equal(e.libvirtCode, 42, 'VIR_ERR_NO_DOMAIN');
      assert.equal(e.syscall, 'virDomainLookupByName');
      assert.match(e.message, /Domain not found/);
    });
    await rejectsWith(c.start('test'), (e) => assert.match(e.message, /already running/));
    c.close();
    c.close();
    await rejectsWith(c.listDomains(), (e) => assert.equal(e.errnoName, 'ENOTCONN'));
  });

  it('a connection that cannot be opened rejects with why', async () => {
    await rejectsWith(LibvirtConnection.open('test:///no/such/file.xml'), (e) => {
      assert.equal(e.errnoName, 'ELIBVIRT');
      assert.equal(e.syscall, 'virConnectOpen');
      assert.match(e.message, /no\/such\/file\.xml/);
    });
  });
});

// Without libvirt.so.0 (hidden by an empty file bind-mounted over it in a private mount namespace):
// the addon still loads; only libvirt's calls fail, with ENOLIBVIRT.
describe('where libvirt cannot be loaded', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kju-nolibvirt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const lib = spawnSync('sh', ['-c', 'ldconfig -p | grep -m1 "libvirt.so.0 " | sed "s/.*=> //"'], { encoding: 'utf8' }).stdout.trim();
  const canHide = installed && process.getuid?.() === 0 && lib !== '' && spawnSync('unshare', ['-m', 'true']).status === 0;
  it('libvirtVersion and open throw ENOLIBVIRT; the rest of the addon works', { skip: canHide ? false : 'needs root, unshare and an installed libvirt to hide' }, () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const script = join(dir, 'probe.mts');
    const index = fileURLToPath(new URL('./index.ts', import.meta.url));
    writeFileSync(
      script,
      `import { LibvirtConnection, libvirtVersion, socketpair, closeFd } from ${JSON.stringify(index)};
for (const fd of socketpair()) closeFd(fd);
try { libvirtVersion(); console.log('loaded'); } catch (e) { console.log(e.errnoName, e.message); }
await LibvirtConnection.open('qemu:///system').then(() => console.log('opened'), (e) => console.log(e.errnoName));`,
    );
    const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind "$1" "$2" && exec "$3" --import tsx "$4"`, 'sh', empty, lib, process.execPath, script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('..', import.meta.url)),
    });
    assert.equal(r.status, 0, r.stderr);
    const [first, second] = r.stdout.trim().split('\n');
    assert.match(first!, /^ENOLIBVIRT libvirt is not installed here: .*libvirt\.so\.0/);
    assert.equal(second, 'ENOLIBVIRT');
  });
});
