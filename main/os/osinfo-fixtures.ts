// Test support: a private osinfo-db in a temp dir, and two small OS files that exercise derives-from,
// aliases, translated names, install scripts and UEFI-only firmware.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A private osinfo-db: `files` maps vendor/file.xml to its XML. */
export function fakeDb(files: Record<string, string>, version = '20240101'): string {
  const dir = mkdtempSync(join(tmpdir(), 'kju-osinfo-'));
  for (const [rel, xml] of Object.entries(files)) {
    mkdirSync(join(dir, 'os', rel.split('/')[0]), { recursive: true });
    writeFileSync(join(dir, 'os', rel), xml);
  }
  writeFileSync(join(dir, 'VERSION'), version);
  return dir;
}

export async function withDb<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.KJU_OSINFO_DIR;
  process.env.KJU_OSINFO_DIR = dir;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.KJU_OSINFO_DIR;
    else process.env.KJU_OSINFO_DIR = before;
  }
}

export const PARENT = `<?xml version="1.0"?>
<libosinfo version="0.0.1">
  <os id="http://example.org/tux/1">
    <short-id>tux1</short-id>
    <name>Tux OS 1</name>
    <name xml:lang="de">Tux Betriebssystem 1</name>
    <version>1</version>
    <vendor>Example</vendor>
    <family>linux</family>
    <distro>tux</distro>
    <release-date>2020-01-02</release-date>
    <eol-date>2021-01-01</eol-date>
    <resources arch="all">
      <minimum><n-cpus>1</n-cpus><ram>536870912</ram><storage>5368709120</storage></minimum>
      <recommended><n-cpus>2</n-cpus><ram>2147483648</ram><storage>21474836480</storage></recommended>
    </resources>
    <installer><script id="http://example.org/tux/preseed/jeos"/></installer>
  </os>
</libosinfo>`;

export const CHILD = `<?xml version="1.0"?>
<libosinfo version="0.0.1">
  <os id="http://example.org/tux/2">
    <short-id>tux2</short-id>
    <short-id>tux-two</short-id>
    <name>Tux OS 2</name>
    <version>2</version>
    <vendor>Example</vendor>
    <family>linux</family>
    <distro>tux</distro>
    <derives-from id="http://example.org/tux/1"/>
    <release-date>2023-05-06</release-date>
    <media arch="x86_64"><url>http://127.0.0.1/tux2.iso</url><iso><volume-id>TUX2</volume-id></iso></media>
  </os>
  <os id="http://example.org/win/11">
    <short-id>xwin11</short-id>
    <name>Window Eleven &#xB9C8;</name>
    <version>11</version>
    <family>winnt</family>
    <distro>win</distro>
    <firmware arch="x86_64" type="efi"/>
    <firmware arch="x86_64" type="bios" supported="false"/>
  </os>
</libosinfo>`;
