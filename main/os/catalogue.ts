// The OS catalogue: every OS variant osinfo-db describes (the system's copy, Debian's `osinfo-db`
// package, or KJU_OSINFO_DIR), with its recommended resources, the kju preset for its family and
// whether kju can install it unattended. Reads the XML once per process; files are size-capped.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { KjuError } from '../../common/errors.js';
import type { OsCatalogue, OsCatalogueEntry, VmPreset } from '../../common/contract.js';
import { MAX_OSINFO_FILE_BYTES, parseOsinfoXml, textOf, untranslated } from './osinfo-xml.js';

/** Where Debian, Ubuntu and Fedora install osinfo-db; Homebrew's prefix on macOS. */
const SYSTEM_DIRS = ['/usr/share/osinfo', '/opt/homebrew/share/osinfo', '/usr/local/share/osinfo'];
/** The whole database is ~5 MiB today; 64 MiB refuses a directory filled by mistake or malice. */
const MAX_TOTAL_BYTES = 64 * 1024 * 1024;

/** One <os> as read, before derives-from is followed. */
interface RawOs {
  uri: string;
  ids: string[];
  name: string;
  vendor: string;
  version: string;
  family: string;
  distro: string;
  releaseDate?: string;
  eolDate?: string;
  derivesFrom?: string;
  resources?: { memoryMiB?: number; diskGiB?: number; cpus?: number };
  scripts: string[];
  mediaUrls: number;
  firmwareEfiOnly: boolean;
}

export function osinfoDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.KJU_OSINFO_DIR || undefined;
}

async function findDir(): Promise<string> {
  const dirs = osinfoDir() ? [osinfoDir() as string] : SYSTEM_DIRS;
  for (const d of dirs) {
    if ((await stat(join(d, 'os')).catch(() => null))?.isDirectory()) return d;
  }
  throw new KjuError('missing-file', `no osinfo-db found (looked in ${dirs.join(', ')})`, {
    hint: 'install it: apt-get install osinfo-db (Debian/Ubuntu), dnf install osinfo-db (Fedora), or set KJU_OSINFO_DIR',
  });
}

const num = (v: unknown): number | undefined => {
  const n = Number(textOf(v));
  return Number.isFinite(n) && n > 0 ? n : undefined;
};

/** <resources arch="x86_64|all">: <recommended> where given, each value falling back to <minimum>. */
function resourcesOf(os: Record<string, unknown>): RawOs['resources'] {
  const list = (os.resources as Record<string, unknown>[] | undefined) ?? [];
  const r = list.find((x) => x['@arch'] === 'x86_64') ?? list.find((x) => x['@arch'] === 'all');
  if (!r) return undefined;
  const rec = (r.recommended ?? {}) as Record<string, unknown>;
  const min = (r.minimum ?? {}) as Record<string, unknown>;
  const ram = num(rec.ram) ?? num(min.ram);
  const storage = num(rec.storage) ?? num(min.storage);
  const cpus = num(rec['n-cpus']) ?? num(min['n-cpus']);
  return {
    ...(ram ? { memoryMiB: Math.round(ram / 2 ** 20) } : {}),
    ...(storage ? { diskGiB: Math.ceil(storage / 2 ** 30) } : {}),
    ...(cpus ? { cpus } : {}),
  };
}

function readOs(os: Record<string, unknown>): RawOs | undefined {
  const uri = os['@id'];
  const ids = ((os['short-id'] as unknown[]) ?? []).map(textOf).filter((s): s is string => !!s);
  if (typeof uri !== 'string' || !ids.length) return undefined;
  const installer = os.installer as Record<string, unknown> | undefined;
  const scripts = ((installer?.script as Record<string, unknown>[] | undefined) ?? []).map((s) => String(s['@id'] ?? '')).filter(Boolean);
  const media = (os.media as Record<string, unknown>[] | undefined) ?? [];
  const firmware = (os.firmware as Record<string, unknown>[] | undefined) ?? [];
  const efi = firmware.some((f) => f['@arch'] === 'x86_64' && f['@type'] === 'efi' && f['@supported'] !== 'false');
  const bios = firmware.find((f) => f['@arch'] === 'x86_64' && f['@type'] === 'bios');
  const derives = (os['derives-from'] as Record<string, unknown>[] | undefined)?.[0]?.['@id'];
  return {
    uri,
    ids,
    name: untranslated(os.name) ?? ids[0],
    vendor: untranslated(os.vendor) ?? '',
    version: textOf(os.version) ?? '',
    family: textOf(os.family) ?? '',
    distro: textOf(os.distro) ?? '',
    ...(textOf(os['release-date']) ? { releaseDate: textOf(os['release-date']) } : {}),
    ...(textOf(os['eol-date']) ? { eolDate: textOf(os['eol-date']) } : {}),
    ...(typeof derives === 'string' ? { derivesFrom: derives } : {}),
    resources: resourcesOf(os),
    scripts,
    mediaUrls: media.filter((m) => (m.url as unknown[] | undefined)?.length).length,
    firmwareEfiOnly: efi && bios?.['@supported'] === 'false',
  };
}

/** The kju preset for an osinfo family/distro (main/library/presets.ts says what each gives). */
export function presetFor(family: string, distro: string): VmPreset {
  // Windows 1-3.x and 9x run on DOS-era hardware (i440FX, IDE, SB16): the dos preset, not the Windows 11 one
  if (family === 'win16' || family === 'win9x' || family === 'msdos' || distro === 'msdos' || distro === 'freedos') return 'dos';
  if (family === 'winnt') return 'windows';
  if (['freebsd', 'netbsd', 'openbsd', 'dragonflybsd'].includes(family)) return 'bsd';
  if (family === 'linux') return 'linux';
  return 'other';
}

/** kju runs no install script yet; the entry says which osinfo-db has so the user knows what is coming. */
function unattendedOf(scripts: string[]): OsCatalogueEntry['unattended'] {
  if (!scripts.length) return { supported: false, why: 'osinfo-db has no install script for it' };
  const names = scripts.map((s) => s.replace(/^https?:\/\/[^/]+\//, ''));
  return { supported: false, why: `osinfo-db has ${names.join(', ')}; kju does not run install scripts yet` };
}

/** Follows derives-from for what a variant leaves out (resources, install scripts), as libosinfo does. */
function resolve(raw: RawOs, byUri: Map<string, RawOs>): OsCatalogueEntry {
  let resources = raw.resources ?? {};
  let scripts = raw.scripts;
  const seen = new Set([raw.uri]);
  for (let p = raw.derivesFrom ? byUri.get(raw.derivesFrom) : undefined; p && !seen.has(p.uri); p = p.derivesFrom ? byUri.get(p.derivesFrom) : undefined) {
    seen.add(p.uri);
    resources = { ...(p.resources ?? {}), ...resources };
    if (!scripts.length) scripts = p.scripts;
  }
  return {
    id: raw.ids[0],
    ...(raw.ids.length > 1 ? { aliases: raw.ids.slice(1) } : {}),
    name: raw.name,
    vendor: raw.vendor,
    version: raw.version,
    family: raw.family,
    ...(raw.releaseDate ? { releaseDate: raw.releaseDate } : {}),
    ...(raw.eolDate ? { eolDate: raw.eolDate } : {}),
    recommended: resources,
    preset: presetFor(raw.family, raw.distro),
    ...(raw.firmwareEfiOnly ? { uefiOnly: true } : {}),
    downloadable: raw.mediaUrls > 0,
    unattended: unattendedOf(scripts),
  };
}

let cached: Promise<OsCatalogue> | undefined;
let cachedDir: string | undefined;

/** The whole catalogue, newest release first; cached per process (and per KJU_OSINFO_DIR). */
export function loadCatalogue(): Promise<OsCatalogue> {
  const want = osinfoDir() ?? '';
  if (!cached || cachedDir !== want) {
    cachedDir = want;
    cached = readCatalogue();
    cached.catch(() => (cached = undefined));
  }
  return cached;
}

async function readCatalogue(): Promise<OsCatalogue> {
  const dir = await findDir();
  const osDir = join(dir, 'os');
  let total = 0;
  const raws: RawOs[] = [];
  for (const vendor of (await readdir(osDir, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()) {
    for (const file of (await readdir(join(osDir, vendor))).filter((f) => f.endsWith('.xml')).sort()) {
      const path = join(osDir, vendor, file);
      const size = (await stat(path)).size;
      if (size > MAX_OSINFO_FILE_BYTES)
        throw new KjuError('invalid-config', `${path}: refused: ${size} bytes, over the ${MAX_OSINFO_FILE_BYTES}-byte limit for one osinfo-db file`, {
          hint: 'reinstall osinfo-db (apt-get install --reinstall osinfo-db) or point KJU_OSINFO_DIR elsewhere',
        });
      total += size;
      if (total > MAX_TOTAL_BYTES)
        throw new KjuError('invalid-config', `${osDir}: refused: more than ${MAX_TOTAL_BYTES} bytes of XML`, {
          hint: 'reinstall osinfo-db (apt-get install --reinstall osinfo-db) or point KJU_OSINFO_DIR elsewhere',
        });
      const doc = parseOsinfoXml(await readFile(path, 'utf8'), path);
      const root = doc.libosinfo as Record<string, unknown> | undefined;
      for (const os of (root?.os as Record<string, unknown>[] | undefined) ?? []) {
        const raw = readOs(os);
        if (raw) raws.push(raw);
      }
    }
  }
  const byUri = new Map(raws.map((r) => [r.uri, r]));
  const entries = raws.map((r) => resolve(r, byUri));
  entries.sort((a, b) => (b.releaseDate ?? '').localeCompare(a.releaseDate ?? '') || a.id.localeCompare(b.id));
  const version = (await readFile(join(dir, 'VERSION'), 'utf8').catch(() => '')).trim();
  return { source: dir, version: version || 'unknown', entries };
}

/** Entries whose id, alias or name contains `text` (case-insensitive); all without text. */
export function searchCatalogue(catalogue: OsCatalogue, text?: string): OsCatalogueEntry[] {
  const t = text?.trim().toLowerCase();
  if (!t) return catalogue.entries;
  return catalogue.entries.filter((e) => [e.id, ...(e.aliases ?? []), e.name].some((s) => s.toLowerCase().includes(t)));
}
