// What `qemu-img info --backing-chain` said about each of the library's disks (about 290 ms per VM),
// kept so `kju list` does not ask again for a disk that has not changed. Only the chain is kept,
// never a verdict: whether the files it names are trusted is decided afresh each time (disk-trust.ts).
// A chain is reused only while every file in it (each image, data file and extent) is the same
// file with the same size, mtime and ctime in ns; ctime cannot be set back (utimes sets it to now).
// The cache lives in the library (a share may not contain it), 0600, and carries an HMAC under the
// library's key: anything that cannot read the key cannot write a cache kju accepts. A corrupt,
// foreign or unreadable cache is ignored and rebuilt.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { filesReadBy } from './backing-chain.js';
import { ensureLibraryKey } from './outside-paths.js';
import { imageChain, type ChainImage } from './qemu-img.js';

export const DISK_CHAIN_CACHE_FILE = '.kju-disk-chains';
const FORMAT = 1;

/**
 * A file changed within this long before a check may change again with the same timestamps (file
 * system clocks tick in jiffies, FAT in 2 s), so its chain is not kept: Git's "racy" rule.
 */
export const DEFAULT_FRESH_MARGIN_MS = 3000;

interface CachedChain {
  /** every file the chain reads → `dev:ino:size:mtimeNs:ctimeNs` when qemu-img read it */
  stamps: Record<string, string>;
  chain: ChainImage[];
}

export interface DiskChainCacheOptions {
  /** for tests; default DEFAULT_FRESH_MARGIN_MS */
  freshMarginMs?: number;
}

/** One list's view of the cache. Runs on the Node loop; lookups may run concurrently. */
export class DiskChainCache {
  private readonly used = new Map<string, CachedChain>();

  private constructor(
    private readonly root: string,
    private readonly key: Buffer | undefined,
    private readonly loaded: Map<string, CachedChain>,
    /** the verified file's body ('' when none): an unchanged cache is not written again */
    private readonly loadedBody: string,
    private readonly freshMarginNs: bigint,
  ) {}

  /** The cache of the library at `root` under `key`; empty when there is none or it does not verify. Never throws. */
  static async load(root: string, key: Buffer | undefined, options: DiskChainCacheOptions = {}): Promise<DiskChainCache> {
    const margin = BigInt(Math.round((options.freshMarginMs ?? DEFAULT_FRESH_MARGIN_MS) * 1e6));
    const text = key ? await readFile(join(root, DISK_CHAIN_CACHE_FILE), 'utf8').catch(() => '') : '';
    const body = key ? verifiedBody(text, key) : '';
    return new DiskChainCache(root, key, entriesOf(body), body, margin);
  }

  /** The backing chain of `disk` (absolute), from the cache when no file of it changed, else from qemu-img (errors as imageChain's). */
  async chainOf(disk: string): Promise<ChainImage[]> {
    const cached = this.loaded.get(disk);
    if (cached && (await unchanged(cached.stamps))) {
      this.used.set(disk, cached);
      return cached.chain;
    }
    const startedNs = BigInt(Date.now()) * 1_000_000n;
    const chain = await imageChain(disk);
    const stamps = await stampsOf(chain, disk, startedNs - this.freshMarginNs);
    if (stamps) this.used.set(disk, { stamps, chain });
    return chain;
  }

  /**
   * Writes the chains looked up since load (disks no longer listed drop out) unless that is what
   * the file holds, making the library's key when there is none yet. Never throws: a cache that
   * cannot be written only means qemu-img runs again next time.
   */
  async save(): Promise<void> {
    const disks = Object.fromEntries([...this.used].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const body = JSON.stringify({ format: FORMAT, disks });
    if (body === this.loadedBody || (!this.used.size && !this.loadedBody)) return;
    try {
      const key = this.key ?? (await ensureLibraryKey(this.root));
      await writeFileAtomic(join(this.root, DISK_CHAIN_CACHE_FILE), `${mac(key, body)}\n${body}`, { backup: false, mode: 0o600 });
    } catch {
      /* not kept: checked again next time */
    }
  }
}

function mac(key: Buffer, body: string): string {
  const cacheKey = createHmac('sha256', key).update('kju disk chain cache').digest();
  return createHmac('sha256', cacheKey).update(body).digest('hex');
}

/** The body of a cache file whose tag verifies under `key`, else ''. */
function verifiedBody(text: string, key: Buffer): string {
  const cut = text.indexOf('\n');
  if (cut < 0) return '';
  const [tag, body] = [Buffer.from(text.slice(0, cut)), text.slice(cut + 1)];
  const want = Buffer.from(mac(key, body));
  return tag.length === want.length && timingSafeEqual(tag, want) ? body : '';
}

function entriesOf(body: string): Map<string, CachedChain> {
  if (!body) return new Map();
  try {
    const parsed = JSON.parse(body) as { format?: unknown; disks?: unknown };
    if (parsed.format !== FORMAT || typeof parsed.disks !== 'object' || !parsed.disks) return new Map();
    return new Map(Object.entries(parsed.disks as Record<string, CachedChain>).filter(([, e]) => isCachedChain(e)));
  } catch {
    return new Map();
  }
}

function isCachedChain(e: unknown): e is CachedChain {
  const c = e as CachedChain;
  return (
    typeof c === 'object' &&
    !!c &&
    typeof c.stamps === 'object' &&
    !!c.stamps &&
    Object.values(c.stamps).every((s) => typeof s === 'string') &&
    Array.isArray(c.chain) &&
    c.chain.every((i) => typeof i?.filename === 'string' && typeof i.format === 'string')
  );
}

/** `dev:ino:size:mtimeNs:ctimeNs` of `path` (symlinks followed), or undefined when it cannot be read. */
async function stampOf(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return undefined;
  }
}

async function unchanged(stamps: Record<string, string>): Promise<boolean> {
  const paths = Object.keys(stamps);
  if (!paths.length) return false;
  const now = await Promise.all(paths.map(stampOf));
  return paths.every((p, i) => now[i] === stamps[p]);
}

/**
 * The stamps of every file `chain` reads, or undefined when one is not a plain absolute path
 * (a `json:` spec, a protocol like `nbd:`), cannot be read, or changed after `freshBeforeNs`:
 * such a chain is asked of qemu-img every time.
 */
async function stampsOf(chain: ChainImage[], disk: string, freshBeforeNs: bigint): Promise<Record<string, string> | undefined> {
  const paths = new Set([disk]);
  for (const image of chain) {
    paths.add(image.filename);
    for (const f of filesReadBy(image)) paths.add(f.path);
  }
  const stamps: Record<string, string> = {};
  for (const p of paths) {
    if (!isAbsolute(p)) return undefined;
    const s = await stampOf(p);
    if (!s || BigInt(s.split(':')[4]) >= freshBeforeNs) return undefined;
    stamps[p] = s;
  }
  return stamps;
}
