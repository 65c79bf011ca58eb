// Where the library folder is: KJU_LIBRARY, else `libraryPath` in the settings file, else
// ${XDG_DATA_HOME:-~/.local/share}/kju/library.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { LibraryError } from './library-error.js';

type Env = Record<string, string | undefined>;

/** ${XDG_CONFIG_HOME:-~/.config}/kju/settings.json */
export function settingsFilePath(env: Env = process.env): string {
  const base = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config');
  return join(base, 'kju', 'settings.json');
}

export function defaultLibraryPath(env: Env = process.env): string {
  const base = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'kju', 'library');
}

/** Reads the settings file synchronously (once per command); a broken file is an error, not ignored. */
export function resolveLibraryPath(env: Env = process.env): string {
  if (env.KJU_LIBRARY) return resolve(env.KJU_LIBRARY);
  const file = settingsFilePath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultLibraryPath(env);
    throw new LibraryError('invalid-config', `cannot read ${file}: ${(err as Error).message}`, file);
  }
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch (err) {
    throw new LibraryError('invalid-config', `${file} is not valid JSON (${(err as Error).message}); fix or delete it`, file);
  }
  const libraryPath = (settings as { libraryPath?: unknown } | null)?.libraryPath;
  if (libraryPath === undefined) return defaultLibraryPath(env);
  if (typeof libraryPath !== 'string' || !isAbsolute(libraryPath)) {
    throw new LibraryError('invalid-config', `${file}: libraryPath must be an absolute path, found ${JSON.stringify(libraryPath)}`, file);
  }
  return libraryPath;
}
