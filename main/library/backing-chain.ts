// An image's header may name other host files QEMU then reads: a backing file, a qcow2 external
// data file. Anyone can write such a header (`qemu-img create -b /etc/shadow -F raw evil.qcow2`),
// so kju reads only the ones the user named; any other is refused before anything is written.
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { LibraryError } from './library-error.js';
import { imageChain, type ChainImage } from './qemu-img.js';

/** The files besides `image` itself that QEMU opens for it, with what they are. */
export function filesReadBy(image: ChainImage): Array<{ what: string; path: string }> {
  const out: Array<{ what: string; path: string }> = [];
  if (image.backing) out.push({ what: 'the backing file', path: image.backing });
  if (image.dataFile) out.push({ what: 'the external data file', path: image.dataFile });
  for (const extent of image.extents ?? []) out.push({ what: 'the extent', path: extent });
  return out;
}

/** Where a path really points (symlinks resolved), or the path itself when it cannot be resolved. */
function canonical(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}

/**
 * The backing chain of `path`, top first, after checking that every backing and data file in it
 * is one of `trusted` (paths the user named). Throws UNTRUSTED_BACKING naming the first other
 * file and the two ways on. Runs qemu-img on the Node loop.
 */
export async function checkBackingChain(path: string, trusted: readonly string[] | ((canonicalPath: string) => boolean)): Promise<ChainImage[]> {
  const chain = await imageChain(path);
  const allowed =
    typeof trusted === 'function'
      ? trusted
      : (
          (set) => (p: string) =>
            set.has(p)
        )(new Set(trusted.map(canonical)));
  for (const image of chain) {
    for (const { what, path: other } of filesReadBy(image)) {
      if (!other.startsWith('json:') && allowed(canonical(other))) continue;
      const via = image.filename === path ? '' : ` (through ${image.filename})`;
      throw new LibraryError(
        'untrusted-backing',
        `${path} reads ${what} ${other}${via}, which you did not name, so kju will not put it into a VM (an image header can name any host file). ` +
          `Flatten the image yourself (qemu-img convert -O qcow2 ${path} flat.qcow2) and use flat.qcow2, ` +
          `or, if ${other} is meant to be part of this disk, name it (kju create --trust-backing ${other})`,
        path,
      );
    }
  }
  return chain;
}
