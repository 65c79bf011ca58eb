import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadCatalogue, searchCatalogue } from './catalogue.js';
import { CHILD, PARENT, fakeDb, withDb } from './osinfo-fixtures.js';

const run = promisify(execFile);
const SYSTEM_DB = '/usr/share/osinfo';
const KJU = join(import.meta.dirname, '..', 'cli', 'kju.ts');

test(
  'the system osinfo-db: Windows 11 is UEFI-only on the windows preset with its resources; the version is the VERSION file',
  { skip: !existsSync(join(SYSTEM_DB, 'os')) && 'osinfo-db is not installed (scripts/setup.sh installs it)' },
  async () => {
    await withDb(SYSTEM_DB, async () => {
      const catalogue = await loadCatalogue();
      assert.equal(catalogue.version, readFileSync(join(SYSTEM_DB, 'VERSION'), 'utf8').trim());
      assert.ok(catalogue.entries.length > 200, `only ${catalogue.entries.length} entries`);
      const win11 = catalogue.entries.find((e) => e.id === 'win11');
      assert.ok(win11);
      assert.equal(win11.preset, 'windows');
      assert.equal(win11.uefiOnly, true);
      assert.deepEqual(win11.recommended, { memoryMiB: 4096, diskGiB: 64, cpus: 2 });
      const fedora = searchCatalogue(catalogue, 'fedora').find((e) => /kickstart/.test(e.unattended.why));
      assert.ok(fedora, 'some Fedora names its kickstart script');
      assert.equal(fedora.unattended.supported, false);
      assert.equal(catalogue.entries.find((e) => e.id === 'win95')?.preset, 'dos');
      assert.equal(catalogue.entries.find((e) => e.id === 'freebsd13.0')?.preset, 'bsd');
    });
  },
);

test('a variant inherits resources and install scripts through derives-from; aliases and names are searchable', async () => {
  const dir = fakeDb({ 'example.org/tux-1.xml': PARENT, 'example.org/tux-2.xml': CHILD });
  try {
    await withDb(dir, async () => {
      const c = await loadCatalogue();
      assert.equal(c.version, '20240101');
      assert.deepEqual(
        c.entries.map((e) => e.id),
        ['tux2', 'tux1', 'xwin11'],
      ); // newest first, undated last
      const [tux2, tux1, win] = c.entries;
      assert.deepEqual(tux2.recommended, { memoryMiB: 2048, diskGiB: 20, cpus: 2 });
      assert.deepEqual(tux2.aliases, ['tux-two']);
      assert.equal(tux2.downloadable, true);
      assert.equal(tux1.downloadable, false);
      assert.equal(tux1.name, 'Tux OS 1');
      assert.equal(tux1.eolDate, '2021-01-01');
      assert.match(tux2.unattended.why, /tux\/preseed\/jeos; kju does not run install scripts yet/);
      assert.equal(win.name, 'Window Eleven \uB9C8');
      assert.equal(win.preset, 'windows');
      assert.equal(win.uefiOnly, true);
      assert.match(win.unattended.why, /no install script/);
      assert.deepEqual(
        searchCatalogue(c, 'TUX-TW').map((e) => e.id),
        ['tux2'],
      );
      assert.deepEqual(
        searchCatalogue(c, 'eleven').map((e) => e.id),
        ['xwin11'],
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an entity bomb and an oversized file are refused without being expanded', async () => {
  const lol = `<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n<libosinfo><os id="x"><short-id>&lol2;</short-id></os></libosinfo>`;
  const bomb = fakeDb({ 'evil.org/bomb.xml': lol });
  const big = fakeDb({ 'evil.org/big.xml': `<libosinfo>${'<x/>'.repeat(2 * 1024 * 1024)}</libosinfo>` });
  try {
    await withDb(bomb, async () => assert.rejects(loadCatalogue(), /bomb\.xml: refused: it declares a DOCTYPE/));
    const t0 = Date.now();
    await withDb(big, async () => assert.rejects(loadCatalogue(), /big\.xml: refused: 8388631 bytes, over the 4194304-byte limit/));
    assert.ok(Date.now() - t0 < 1000, 'refused by its size, before reading');
  } finally {
    rmSync(bomb, { recursive: true, force: true });
    rmSync(big, { recursive: true, force: true });
  }
});

test('kju os list prints the database date and the matching rows; no match exits 1 saying so; a missing database names the package', async () => {
  const dir = fakeDb({ 'example.org/tux-1.xml': PARENT, 'example.org/tux-2.xml': CHILD });
  const env = { ...process.env, KJU_OSINFO_DIR: dir };
  try {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', KJU, 'os', 'list', 'tux'], { env });
    const lines = stdout.trim().split('\n');
    assert.equal(lines[0], `osinfo-db 2024-01-01 from ${dir}`);
    assert.match(lines[1], /^ID\s+NAME\s+RELEASED\s+MEMORY\s+DISK\s+CPUS\s+PRESET\s+UNATTENDED$/);
    assert.match(lines[2], /^tux2\s+Tux OS 2\s+2023-05-06\s+2048 MiB\s+20 GiB\s+2\s+linux\s+no$/);
    assert.match(lines[3], /^tux1\s/);
    assert.equal(lines.length, 4);
    // without TEXT, systems past their end of life are left out unless --all
    const plain = (await run(process.execPath, ['--import', 'tsx', KJU, 'os', 'list'], { env })).stdout;
    assert.doesNotMatch(plain, /^tux1\s/m);
    assert.match((await run(process.execPath, ['--import', 'tsx', KJU, 'os', 'list', '--all'], { env })).stdout, /^tux1\s/m);
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', KJU, 'os', 'list', 'plan9'], { env }),
      (e: { code: number; stdout: string }) => e.code === 1 && /no OS matches "plan9"/.test(e.stdout),
    );
    const missing = join(dir, 'nowhere');
    await assert.rejects(
      run(process.execPath, ['--import', 'tsx', KJU, 'os', 'list'], { env: { ...env, KJU_OSINFO_DIR: missing } }),
      (e: { code: number; stderr: string }) => e.code !== 0 && /no osinfo-db found .*apt-get install osinfo-db/s.test(e.stderr),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
