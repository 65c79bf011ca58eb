// /proc helpers shared by the native tests (Linux only).
import { readFileSync, readlinkSync } from 'node:fs';

/** Lines of /proc/self/maps that map a memfd with this name. */
export function mapsOf(memfdName: string): string[] {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((l) => l.includes(`/memfd:${memfdName} `) || l.endsWith(`/memfd:${memfdName}`));
}

/** What fd points at ('socket:[123]', '/memfd:x (deleted)'), or null if it is not open. */
export function fdTarget(fd: number): string | null {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return null;
  }
}

/** The file's current bytes, read through a fresh open of /proc/self/fd/N (not through any mapping). */
export function fileBytes(fd: number): Buffer {
  return readFileSync(`/proc/self/fd/${fd}`);
}
