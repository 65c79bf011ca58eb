// The library subcommands end to end: `node --import tsx main/cli/kju.ts ...` against a temp
// library (KJU_LIBRARY), with the real qemu-img.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseBundleConfig } from '../../library/bundle-config.js';
import { DISK_CHAIN_CACHE_FILE } from '../../library/disk-chain-cache.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

function kju(library: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/kju.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, KJU_LIBRARY: library },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function tempLibrary(t: { after(fn: () => Promise<void>): void }): Promise<{ library: string; tmp: string }> {
  const tmp = await mkdtemp(join(tmpdir(), 'kju-cli-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  return { library: join(tmp, 'library'), tmp };
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
  const { library } = await tempLibrary(t);
  const r = kju(library, 'create', 'Deb', '--preset', 'linux', '--memory', '512', '--cpus', '1', '--disk-size', '64M', '--json');
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

  const list = kju(library, 'list', '--json');
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(JSON.parse(list.stdout), [
    { id: config.id, name: 'Deb', state: 'stopped', displayDevice: 'virtio-vga', memoryMiB: 512, cpus: 1, soundDevice: 'intel-hda', bundle, ...(config.clipboard ? { clipboard: true } : {}) },
  ]);
  const text = kju(library, 'list');
  assert.match(text.stdout, /^NAME\s+STATE\s+MEMORY\s+CPUS\s+DISPLAY\nDeb\s+stopped\s+512 MiB\s+1\s+virtio-vga\n$/);
});

test('kju edit, clone and delete', async (t) => {
  const { library, tmp } = await tempLibrary(t);
  assert.equal(kju(library, 'create', 'Deb', '--memory', '256', '--cpus', '1', '--disk-size', '64M').code, 0);
  const iso = join(tmp, 'boot.iso');
  await writeFile(iso, 'not really an iso');
  const edit = kju(library, 'edit', 'deb', '--memory', '1G', '--display', 'std', '--iso', iso, '--json');
  assert.equal(edit.code, 0, edit.stderr);
  assert.deepEqual((({ memoryMiB, display, cdrom }) => ({ memoryMiB, display, cdrom }))(JSON.parse(edit.stdout).config), { memoryMiB: 1024, display: 'std', cdrom: iso });
  assert.equal(kju(library, 'clone', 'Deb', 'Copy').code, 0);
  assert.equal(kju(library, 'clone', 'Deb', 'Thin', '--linked').code, 0);
  const refused = kju(library, 'delete', 'Deb');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /linked clones "Thin" read their disks from VM "Deb"; delete them first/);
  assert.equal(kju(library, 'delete', 'Thin', '--permanent').code, 0);
  const del = kju(library, 'delete', 'Deb', '--json');
  assert.equal(del.code, 0, del.stderr);
  assert.match(JSON.parse(del.stdout).trashedTo, /\/\.Trash\/Deb .*\.kju$/);
  assert.deepEqual(
    JSON.parse(kju(library, 'list', '--json').stdout).map((v: { name: string }) => v.name),
    ['Copy'],
  );
});

test('kju create/edit --displays: the heads land in config.json and the list; more than 1 needs virtio-vga', async (t) => {
  const { library } = await tempLibrary(t);
  const made = kju(library, 'create', 'Two', '--memory', '256', '--cpus', '1', '--disk-size', '64M', '--displays', '2', '--json');
  assert.equal(made.code, 0, made.stderr);
  const { bundle } = JSON.parse(made.stdout);
  assert.equal(parseBundleConfig(await readFile(join(bundle, 'config.json'), 'utf8'), 'config.json').displays, 2);
  assert.equal(JSON.parse(kju(library, 'list', '--json').stdout)[0].displays, 2);
  const refused = kju(library, 'edit', 'Two', '--display', 'std');
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /displays: 2 heads need the display device virtio-vga/);
  const edited = kju(library, 'edit', 'Two', '--displays', '3', '--json');
  assert.equal(edited.code, 0, edited.stderr);
  assert.equal(JSON.parse(edited.stdout).config.displays, 3);
  const five = kju(library, 'edit', 'Two', '--displays', '5');
  assert.equal(five.code, 2);
  assert.match(five.stderr, /--displays must be 1 to 4; got 5/);
});

test('usage errors exit 2 with a message', async (t) => {
  const { library } = await tempLibrary(t);
  const r = kju(library, 'create', 'X', '--display', 'vga9000');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--display must be one of virtio-vga, std, cirrus, qxl, bochs, none; got "vga9000"/);
  assert.equal(kju(library, 'create').code, 2);
  assert.equal(kju(library, 'edit', 'X').code, 2);
  assert.match(kju(library, 'list', '--bogus').stderr, /Unknown option '--bogus'/);
});

test('broken libraries: clear errors, and the files on disk stay byte-for-byte the same', async (t) => {
  const { library, tmp } = await tempLibrary(t);
  assert.equal(kju(library, 'create', 'Good', '--memory', '256', '--cpus', '1', '--disk-size', '64M').code, 0);
  const outside = join(tmp, 'outside.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', outside, '16M']);
  assert.equal(kju(library, 'create', 'Ref', '--memory', '256', '--cpus', '1', '--disk', outside, '--disk-mode', 'reference').code, 0);
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

  const list = kju(library, 'list', '--json');
  assert.equal(list.code, 0, 'one bad bundle never breaks the listing');
  const problems = Object.fromEntries(JSON.parse(list.stdout).map((v: { bundle: string; problem?: string }) => [v.bundle.split('/').pop(), v.problem]));
  assert.match(problems['Corrupt.kju'], /Corrupt\.kju\/config\.json is not valid JSON/);
  assert.match(problems['Future.kju'], /made by a newer kju: version 2, this kju reads up to 1/);
  assert.match(problems['NoDisk.kju'], /missing disk 1 .*NoDisk\.kju\/disk\.qcow2/);
  assert.match(problems['Good.kju'], /two VMs are named "Good" \(Good\.kju and Twin\.kju\)/);
  assert.match(problems['Twin.kju'], /two VMs are named "good"/);
  assert.match(problems['Ref.kju'], new RegExp(`missing disk 1 ${outside}`));
  assert.match(kju(library, 'list').stdout, /problem: .*made by a newer kju/);

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
    const r = kju(library, ...args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  assert.deepEqual(await snapshot(library), before);
});

test('kju create refuses a disk image whose backing file is a host file nobody named', async (t) => {
  const { library, tmp } = await tempLibrary(t);
  const secret = join(tmp, 'secret');
  await writeFile(secret, 'host secret\n');
  const evil = join(tmp, 'evil.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', secret, '-F', 'raw', evil, '64K']);
  for (const mode of ['copy', 'link', 'reference']) {
    const r = kju(library, 'create', 'e', '--disk', evil, '--disk-mode', mode);
    assert.equal(r.code, 1, `${mode}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.includes(`reads the backing file ${secret}, which you did not name`), r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  assert.deepEqual(JSON.parse(kju(library, 'list', '--json').stdout), []);
  const ok = kju(library, 'create', 'e', '--disk', evil, '--disk-mode', 'copy', '--trust-backing', secret);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /the copy holds the flattened result of the whole chain/);
});

test('a full disk during create is a clear error, not an internal one, and leaves nothing', async (t) => {
  const { library, tmp } = await tempLibrary(t);
  const image = join(tmp, 'in.raw');
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', image, '1M']);
  // qemu-img as it fails on a full file system (its real message), for the convert step only
  const full = join(tmp, 'full-qemu-img');
  await writeFile(full, `#!/bin/sh\nif [ "$1" = convert ]; then echo "qemu-img: error while writing at byte 0: No space left on device" >&2; exit 1; fi\nexec qemu-img "$@"\n`, { mode: 0o755 });
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'main/cli/kju.ts', 'create', 'Full', '--disk', image, '--memory', '64', '--cpus', '1'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, KJU_LIBRARY: library, KJU_QEMU_IMG: full },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /kju: the disk holding the library is full: qemu-img convert stopped \(.*No space left on device\); free some space and try again/);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.deepEqual(
    (await readdir(library)).filter((n) => !n.startsWith('.kju-')),
    [],
  );
});

test('bundles are private: 0700 directories and 0600 files, for create, copy and clone', async (t) => {
  const { library, tmp } = await tempLibrary(t);
  const image = join(tmp, 'in.raw');
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', image, '1M']);
  assert.equal(kju(library, 'create', 'New', '--disk-size', '64M', '--memory', '64', '--cpus', '1').code, 0);
  assert.equal(kju(library, 'create', 'Copied', '--disk', image, '--memory', '64', '--cpus', '1').code, 0);
  assert.equal(kju(library, 'clone', 'New', 'Full').code, 0);
  assert.equal(kju(library, 'clone', 'New', 'Thin', '--linked').code, 0);
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
  const { library } = await tempLibrary(t);
  const sound = (r: { stdout: string }) => JSON.parse(r.stdout).config.sound;
  const linux = kju(library, 'create', 'L', '--memory', '256', '--cpus', '1', '--disk-size', '64M', '--json');
  assert.equal(linux.code, 0, linux.stderr);
  assert.equal(sound(linux), 'intel-hda');
  const dos = kju(library, 'create', 'D', '--preset', 'dos', '--memory', '64', '--cpus', '1', '--disk-size', '64M', '--json');
  assert.equal(dos.code, 0, dos.stderr);
  assert.equal(sound(dos), 'sb16');
  const ac97 = kju(library, 'edit', 'D', '--sound', 'ac97', '--json');
  assert.equal(ac97.code, 0, ac97.stderr);
  assert.equal(sound(ac97), 'ac97');
  assert.equal(sound(kju(library, 'edit', 'L', '--sound', 'none', '--json')), 'none');
  const bad = kju(library, 'edit', 'L', '--sound', 'gus');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--sound must be one of intel-hda, ich9-intel-hda, ac97, sb16, virtio-sound, none; got "gus"/);
});

test('the microphone opt-in is refused clearly (sound in is not built yet), and nothing changes', async (t) => {
  const { library } = await tempLibrary(t);
  assert.equal(kju(library, 'create', 'M', '--memory', '256', '--cpus', '1', '--disk-size', '64M').code, 0);
  const before = await snapshot(library);
  const r = kju(library, 'edit', 'M', '--microphone');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--microphone: sound in \(the guest hearing a host microphone\) is not in kju yet/);
  assert.deepEqual(await snapshot(library), before);
});
