// The library subcommands end to end: `node --import tsx main/cli/kju.ts ...` against a temp
// library (KJU_LIBRARY), with the real qemu-img.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseBundleConfig } from '../../library/bundle-config.js';
import { DISK_CHAIN_CACHE_FILE } from '../../library/disk-chain-cache.js';
import { kjuScratch, type KjuScratch } from '../../testing/kju-scratch.js';

function tempLibrary(t: { after(fn: () => void): void }): { library: string; tmp: string; kju: KjuScratch['kju']; run: KjuScratch['run'] } {
  const s = kjuScratch('kju-cli');
  t.after(() => s.remove());
  return { library: s.library, tmp: s.dir, kju: s.kju, run: s.run };
}

/** Every file under `dir` with a hash of its bytes: proves an error changed nothing on disk (the
 *  library's disk chain cache aside: a list may add chains to it). */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    for (const name of await readdir(d)) {
      const p = join(d, name);
      if (p === join(dir, DISK_CHAIN_CACHE_FILE)) continue;
      if ((await stat(p)).isDirectory()) {
        out[`${relative(dir, p)}/`] = 'dir';
        await walk(p);
      } else
        out[relative(dir, p)] = createHash('sha256')
          .update(await readFile(p))
          .digest('hex');
    }
  }
  await walk(dir);
  return out;
}

test('kju create makes a VM with a 64 MiB qcow2 disk whose config validates', async (t) => {
  const { library, kju } = tempLibrary(t);
  const r = kju('create', 'Deb', '--preset', 'linux', '--memory', '512', '--cpus', '1', '--disk-size', '64M', '--json');
  assert.equal(r.code, 0, r.stderr);
  const { bundle, config } = JSON.parse(r.stdout);
  assert.equal(bundle, join(library, 'Deb.kju'));
  const disk = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', join(bundle, 'disk.qcow2')], { encoding: 'utf8' }));
  assert.equal(disk.format, 'qcow2');
  assert.equal(disk['virtual-size'], 67108864);
  const onDisk = parseBundleConfig(await readFile(join(bundle, 'config.json'), 'utf8'), 'config.json');
  assert.deepEqual(onDisk, config);
  assert.equal(onDisk.memoryMiB, 512);
  assert.equal(onDisk.cpus, 1);

  const list = kju('list', '--json');
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), [
    { id: config.id, name: 'Deb', state: 'stopped', displayDevice: 'virtio-vga', memoryMiB: 512, cpus: 1, soundDevice: 'intel-hda', bundle, ...(config.clipboard ? { clipboard: true } : {}) },
  ]);
  const text = kju('list');
  assert.match(text.stdout, /^NAME\s+STATE\s+MEMORY\s+CPUS\s+DISPLAY\nDeb\s+stopped\s+512 MiB\s+1\s+virtio-vga\n$/);
});

test('kju edit, clone and delete', async (t) => {
  const { tmp, kju } = tempLibrary(t);
  assert.equal(kju('create', 'Deb', '--memory', '256', '--cpus', '1', '--disk-size', '64M').code, 0);
  const iso = join(tmp, 'boot.iso');
  await writeFile(iso, 'not really an iso');
  const edit = kju('edit', 'deb', '--memory', '1G', '--display', 'std', '--iso', iso, '--json');
  assert.equal(edit.code, 0, edit.stderr);
  assert.deepEqual((({ memoryMiB, display, cdrom }) => ({ memoryMiB, display, cdrom }))(JSON.parse(edit.stdout).config), { memoryMiB: 1024, display: 'std', cdrom: iso });
  assert.equal(kju('clone', 'Deb', 'Copy').code, 0);
  assert.equal(kju('clone', 'Deb', 'Thin', '--linked').code, 0);
  const refused = kju('delete', 'Deb');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /linked clones "Thin" read their disks from VM "Deb"; delete them first/);
  assert.equal(kju('delete', 'Thin', '--permanent').code, 0);
  const del = kju('delete', 'Deb', '--json');
  assert.equal(del.code, 0, del.stderr);
  assert.match(JSON.parse(del.stdout).trashedTo, /\/\.Trash\/Deb .*\.kju$/);
  assert.deepEqual(
    JSON.parse(kju('list', '--json').stdout).map((v: { name: string }) => v.name),
    ['Copy'],
  );
});

test('kju create/edit --displays: the heads land in config.json and the list; more than 1 needs virtio-vga', async (t) => {
  const { kju } = tempLibrary(t);
  const made = kju('create', 'Two', '--memory', '256', '--cpus', '1', '--disk-size', '64M', '--displays', '2', '--json');
  assert.equal(made.code, 0, made.stderr);
  const { bundle } = JSON.parse(made.stdout);
  assert.equal(parseBundleConfig(await readFile(join(bundle, 'config.json'), 'utf8'), 'config.json').displays, 2);
  assert.equal(JSON.parse(kju('list', '--json').stdout)[0].displays, 2);
  const refused = kju('edit', 'Two', '--display', 'std');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /displays: 2 heads need the display device virtio-vga/);
  const edited = kju('edit', 'Two', '--displays', '3', '--json');
  assert.equal(edited.code, 0, edited.stderr);
  assert.equal(JSON.parse(edited.stdout).config.displays, 3);
  const five = kju('edit', 'Two', '--displays', '5');
  assert.equal(five.code, 2);
  assert.match(five.stderr, /--displays must be 1 to 4; got 5/);
});

test('usage errors exit 2 with a message', async (t) => {
  const { kju } = tempLibrary(t);
  const r = kju('create', 'X', '--display', 'vga9000');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--display must be one of virtio-vga, std, cirrus, qxl, bochs, none; got "vga9000"/);
  assert.equal(kju('create').code, 2);
  assert.equal(kju('edit', 'X').code, 2);
  assert.match(kju('list', '--bogus').stderr, /Unknown option '--bogus'/);
});

test('broken libraries: clear errors, and the files on disk stay byte-for-byte the same', async (t) => {
  const { library, tmp, kju } = tempLibrary(t);
  assert.equal(kju('create', 'Good', '--memory', '256', '--cpus', '1', '--disk-size', '64M').code, 0);
  const outside = join(tmp, 'outside.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', outside, '16M']);
  assert.equal(kju('create', 'Ref', '--memory', '256', '--cpus', '1', '--disk', outside, '--disk-mode', 'reference').code, 0);
  const good = parseBundleConfig(await readFile(join(library, 'Good.kju', 'config.json'), 'utf8'), 'x');

  // corrupt JSON, a newer schema, a missing disk inside the bundle, a twin name, an outside disk gone
  await cp(join(library, 'Good.kju'), join(library, 'Corrupt.kju'), { recursive: true });
  await writeFile(join(library, 'Corrupt.kju', 'config.json'), '{"kju": 1, "name": "Corrupt",');
  await cp(join(library, 'Good.kju'), join(library, 'Future.kju'), { recursive: true });
  await writeFile(join(library, 'Future.kju', 'config.json'), JSON.stringify({ ...good, kju: 2, id: crypto.randomUUID(), name: 'Future' }));
  await cp(join(library, 'Good.kju'), join(library, 'NoDisk.kju'), { recursive: true });
  await writeFile(join(library, 'NoDisk.kju', 'config.json'), JSON.stringify({ ...good, id: crypto.randomUUID(), name: 'NoDisk' }));
  await rm(join(library, 'NoDisk.kju', 'disk.qcow2'));
  await cp(join(library, 'Good.kju'), join(library, 'Twin.kju'), { recursive: true });
  await writeFile(join(library, 'Twin.kju', 'config.json'), JSON.stringify({ ...good, id: crypto.randomUUID(), name: 'good' }));
  await rm(outside);
  const before = await snapshot(library);

  const list = kju('list', '--json');
  assert.equal(list.code, 0, 'one bad bundle never breaks the listing');
  const problems = Object.fromEntries(JSON.parse(list.stdout).map((v: { bundle: string; problem?: string }) => [v.bundle.split('/').pop(), v.problem]));
  assert.match(problems['Corrupt.kju'], /Corrupt\.kju\/config\.json is not valid JSON/);
  assert.match(problems['Future.kju'], /made by a newer kju: version 2, this kju reads up to 1/);
  assert.match(problems['NoDisk.kju'], /missing disk 1 .*NoDisk\.kju\/disk\.qcow2/);
  assert.match(problems['Good.kju'], /two VMs are named "Good" \(Good\.kju and Twin\.kju\)/);
  assert.match(problems['Twin.kju'], /two VMs are named "good"/);
  assert.match(problems['Ref.kju'], new RegExp(`missing disk 1 ${outside}`));
  assert.match(kju('list').stdout, /problem: .*made by a newer kju/);

  const expectations: Array<[string[], RegExp]> = [
    [['edit', 'Corrupt', '--memory', '512'], /Corrupt\.kju\/config\.json is not valid JSON .*restore .*config\.json\.bak/],
    [['edit', 'Future', '--memory', '512'], /made by a newer kju: version 2, this kju reads up to 1\. Update kju/],
    [['clone', 'NoDisk', 'Other'], /VM "NoDisk" cannot start: missing disk 1 .*NoDisk\.kju\/disk\.qcow2/],
    [['delete', 'Good'], /two VMs are named "good" \(Good\.kju and Twin\.kju\)/i],
    [['clone', 'Ref', 'Other'], new RegExp(`VM "Ref" cannot start: missing disk 1 ${outside}`)],
    [['create', 'GOOD', '--disk-size', '64M', '--memory', '256', '--cpus', '1'], /a VM named "good" already exists/i],
    [['edit', 'Nobody', '--cpus', '1'], /no VM named "Nobody"/],
  ];
  for (const [args, message] of expectations) {
    const r = kju(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  assert.deepEqual(await snapshot(library), before);
});

test('kju create refuses a disk image whose backing file is a host file nobody named', async (t) => {
  const { tmp, kju } = tempLibrary(t);
  const secret = join(tmp, 'secret');
  await writeFile(secret, 'host secret\n');
  const evil = join(tmp, 'evil.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', secret, '-F', 'raw', evil, '64K']);
  for (const mode of ['copy', 'link', 'reference']) {
    const r = kju('create', 'e', '--disk', evil, '--disk-mode', mode);
    assert.equal(r.code, 1, `${mode}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.includes(`reads the backing file ${secret}, which you did not name`), r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  assert.deepEqual(JSON.parse(kju('list', '--json').stdout), []);
  const ok = kju('create', 'e', '--disk', evil, '--disk-mode', 'copy', '--trust-backing', secret);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /the copy holds the flattened result of the whole chain/);
});

test('a full disk during create is a clear error, not an internal one, and leaves nothing', async (t) => {
  const { library, tmp, run } = tempLibrary(t);
  const image = join(tmp, 'in.raw');
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', image, '1M']);
  // qemu-img as it fails on a full file system (its real message), for the convert step only
  const full = join(tmp, 'full-qemu-img');
  await writeFile(full, `#!/bin/sh\nif [ "$1" = convert ]; then echo "qemu-img: error while writing at byte 0: No space left on device" >&2; exit 1; fi\nexec qemu-img "$@"\n`, { mode: 0o755 });
  const r = run(['create', 'Full', '--disk', image, '--memory', '64', '--cpus', '1'], { env: { KJU_QEMU_IMG: full } });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /kju: the disk holding the library is full: qemu-img convert stopped \(.*No space left on device\); free some space and try again/);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.deepEqual(
    (await readdir(library)).filter((n) => !n.startsWith('.kju-')),
    [],
  );
});

test('bundles are private: 0700 directories and 0600 files, for create, copy and clone', async (t) => {
  const { library, tmp, kju } = tempLibrary(t);
  const image = join(tmp, 'in.raw');
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', image, '1M']);
  assert.equal(kju('create', 'New', '--disk-size', '64M', '--memory', '64', '--cpus', '1').code, 0);
  assert.equal(kju('create', 'Copied', '--disk', image, '--memory', '64', '--cpus', '1').code, 0);
  assert.equal(kju('clone', 'New', 'Full').code, 0);
  assert.equal(kju('clone', 'New', 'Thin', '--linked').code, 0);
  const modes: string[] = [];
  async function walk(d: string): Promise<void> {
    for (const name of await readdir(d)) {
      const p = join(d, name);
      const s = await stat(p);
      modes.push(`${relative(library, p)} ${(s.mode & 0o777).toString(8)}`);
      if (s.isDirectory()) await walk(p);
    }
  }
  await walk(library);
  const open = modes.filter((m) => !/ (700|600|400)$/.test(m));
  assert.deepEqual(open, [], 'nothing readable by group or others');
  assert.ok(
    modes.some((m) => /^New\.kju\/config\.json 600$/.test(m)),
    modes.join('\n'),
  );
  assert.ok(
    modes.some((m) => /^New\.kju\/disk\.base-\d+\.qcow2 400$/.test(m)),
    'the frozen base stays read-only',
  );
});

test('kju create/edit --sound: the preset default, a chosen card, none, and a clear usage error', async (t) => {
  const { kju } = tempLibrary(t);
  const sound = (r: { stdout: string }) => JSON.parse(r.stdout).config.sound;
  const linux = kju('create', 'L', '--memory', '256', '--cpus', '1', '--disk-size', '64M', '--json');
  assert.equal(linux.code, 0, linux.stderr);
  assert.equal(sound(linux), 'intel-hda');
  const dos = kju('create', 'D', '--preset', 'dos', '--memory', '64', '--cpus', '1', '--disk-size', '64M', '--json');
  assert.equal(dos.code, 0, dos.stderr);
  assert.equal(sound(dos), 'sb16');
  const ac97 = kju('edit', 'D', '--sound', 'ac97', '--json');
  assert.equal(ac97.code, 0, ac97.stderr);
  assert.equal(sound(ac97), 'ac97');
  assert.equal(sound(kju('edit', 'L', '--sound', 'none', '--json')), 'none');
  const bad = kju('edit', 'L', '--sound', 'gus');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--sound must be one of intel-hda, ich9-intel-hda, ac97, sb16, virtio-sound, none; got "gus"/);
});

test('the microphone opt-in is refused clearly (sound in is not built yet), and nothing changes', async (t) => {
  const { library, kju } = tempLibrary(t);
  assert.equal(kju('create', 'M', '--memory', '256', '--cpus', '1', '--disk-size', '64M').code, 0);
  const before = await snapshot(library);
  const r = kju('edit', 'M', '--microphone');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--microphone: sound in \(the guest hearing a host microphone\) is not in kju yet/);
  assert.deepEqual(await snapshot(library), before);
});
