// Integration (real QEMU under TCG, the demo guest booted once with two shared folders): the guest's
// root user writes, into each share, what would give it root on the host if it landed there as
// such: a setuid and a setgid executable, block and char device nodes, a file chowned to another
// uid and a symlink that points out of the share. On the host (lstat) none of these may appear as
// such; in the guest they keep the modes the guest gave them, and executables made in the share run.
// share0 lies on a file system that takes user.* xattrs (the scratch dir's ext4/tmpfs), share1 on
// ramfs, a real file system without them (mounted here when we are root; skipped otherwise).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type Stats, chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bootDemoGuest, type BootedGuest } from '../testing/guest.js';
import { shareWithQemuUser } from '../testing/qemu-user-share.js';

const scratch = mkdtempSync(join(tmpdir(), 'kju-share-sec-it-'));
const xattrDir = join(scratch, 'xattr');
const plainDir = join(scratch, 'plain');
const decoy = join(scratch, 'decoy.txt');
const decoyText = `decoy-${randomBytes(6).toString('hex')}\n`;
mkdirSync(xattrDir);
mkdirSync(plainDir);

/** ramfs keeps no user.* xattrs (setxattr gives EOPNOTSUPP): the share without them. */
function mountRamfs(): string | undefined {
  if (process.getuid?.() !== 0) return 'mounting ramfs needs root';
  const r = spawnSync('mount', ['-t', 'ramfs', '-o', 'mode=0755', 'kju-test', plainDir], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `mount -t ramfs failed: ${r.stderr.trim()}`;
}
const noPlain = mountRamfs();

/** Every entry under dir (lstat: links are not followed). */
function walk(dir: string): { path: string; st: Stats }[] {
  const out: { path: string; st: Stats }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    out.push({ path, st });
    if (st.isDirectory()) out.push(...walk(path));
  }
  return out;
}

function qemuUid(pid: number): number {
  const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

const shares = [
  { name: 'a share on a file system with user xattrs', host: xattrDir, mnt: '/mnt/x', skip: undefined as string | undefined },
  { name: 'a share on a file system without user xattrs (ramfs)', host: plainDir, mnt: '/mnt/p', skip: noPlain },
];

describe('integration: what the guest root user writes into a shared folder is not root on the host', () => {
  let guest: BootedGuest;

  before(async () => {
    writeFileSync(decoy, decoyText);
    for (const s of shares) {
      if (s.skip) continue;
      shareWithQemuUser(s.host);
      // a file the host put there before: it keeps working with its host modes
      writeFileSync(join(s.host, 'pre.sh'), '#!/bin/sh\necho pre-ok\n');
      chmodSync(join(s.host, 'pre.sh'), 0o755);
    }
    guest = await bootDemoGuest({
      name: 'kju-share-sec',
      shares: shares.filter((s) => !s.skip).map((s) => ({ path: s.host, readOnly: false })),
    });
    let tag = 0;
    for (const s of shares) {
      if (s.skip) continue;
      await guest.serial.run(`mkdir -p ${s.mnt} && mount -t 9p -o trans=virtio,version=9p2000.L share${tag++} ${s.mnt}`);
    }
  });

  after(async () => {
    await guest?.stop();
    if (!noPlain) spawnSync('umount', [plainDir]);
    rmSync(scratch, { recursive: true, force: true });
  });

  for (const s of shares) {
    test(s.name, { skip: s.skip }, async () => {
      const m = s.mnt;
      const tool = "printf '#!/bin/sh\\necho built-ok\\n'";
      // as root in the guest, each of these succeeds
      await guest.serial.run(
        [
          `cd ${m}`,
          `${tool} > tool`,
          'chmod 755 tool',
          'cp tool suid && chmod 4755 suid',
          'cp tool sgid && chmod 2755 sgid',
          'mknod blk b 8 0 && chmod 666 blk',
          'mknod chr c 1 3 && chmod 666 chr',
          'echo mine > owned && chown 1234:1234 owned',
          `ln -s ${decoy} out-link`,
          'mkdir -p build/bin && cp tool build/bin/cc && chmod 755 build/bin/cc',
          'sync',
          'cd /',
        ].join(' && '),
      );

      // the guest sees its own modes, owners and special files
      const ls = await guest.serial.run(`ls -ln ${m}`);
      const line = (name: string) => ls.split('\n').find((l) => l.endsWith(` ${name}`) || l.includes(` ${name} -> `)) ?? '';
      assert.match(line('suid'), /^-rwsr-xr-x /, ls);
      assert.match(line('sgid'), /^-rwxr-sr-x /, ls);
      assert.match(line('blk'), /^brw-rw-rw- .*\b8,\s+0\b/, ls);
      assert.match(line('chr'), /^crw-rw-rw- .*\b1,\s+3\b/, ls);
      assert.match(line('owned'), /^-\S+\s+\d+\s+1234\s+1234\s/, ls);
      assert.match(line('out-link'), new RegExp(`^l.* out-link -> ${decoy}$`), ls);
      // a build tree with executables works in the share, and so does a file the host put there
      assert.equal(await guest.serial.run(`${m}/tool && ${m}/build/bin/cc && ${m}/suid`), 'built-ok\nbuilt-ok\nbuilt-ok');
      assert.equal(await guest.serial.run(`${m}/pre.sh`), 'pre-ok');
      // writing through the link from the guest does not reach the host's decoy
      await guest.serial.run(`echo pwned > ${m}/out-link`, { allowFailure: true });

      // on the host: nothing setuid/setgid, no device node, no symlink, no foreign owner
      const owners = new Set([process.getuid!(), qemuUid(guest.qemu.pid)]);
      const entries = walk(s.host);
      assert.ok(
        entries.some((e) => e.path === join(s.host, 'suid')),
        'the files the guest made are on the host',
      );
      for (const { path, st } of entries) {
        const what = `${path}: mode ${st.mode.toString(8)} uid ${st.uid} gid ${st.gid}`;
        assert.equal(st.mode & 0o6000, 0, `setuid/setgid on the host: ${what}`);
        assert.ok(st.isFile() || st.isDirectory(), `not a plain file or folder on the host: ${what}`);
        assert.ok(owners.has(st.uid), `owned by another host user: ${what}`);
        assert.notEqual(st.gid, 1234, `group of the guest's chown on the host: ${what}`);
      }
      // the host reading the link's name gets no way to the decoy, and the decoy is untouched
      assert.ok(!readFileSync(join(s.host, 'out-link'), 'utf8').includes(decoyText.trim()));
      assert.equal(readFileSync(decoy, 'utf8'), decoyText);
    });
  }
});
