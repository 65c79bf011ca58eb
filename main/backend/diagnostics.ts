// What kju needs from the host, checked one line at a time for `kju doctor` and the app's
// Diagnostics view (the backend's `diagnostics` method): each line OK / WARN / FAIL with what to do.
// Runs on the Node loop; reads only, except that the accelerator check may run its probe and cache
// the result (accel-check.ts).
import type { Diagnostic } from '../../common/contract.js';
import { lstatSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { resolveAccelerator } from '../qemu/accel-check.js';
import { type QemuBinary, QEMU_INSTALL_HINT, findQemu } from '../qemu/find-qemu.js';
import { runtimeBase } from '../qemu/runtime-dir.js';
import { dropsPrivileges, lookupUser, qemuUserFix, qemuUserName } from '../qemu/qemu-user.js';
import { findUefiFirmware } from '../library/firmware.js';
import { resolveLibraryPath } from '../library/library-location.js';
import { libvirtInstallHint, probeLibvirt } from '../libvirt/libvirt-domains.js';

export type { Diagnostic, DiagnosticStatus } from '../../common/contract.js';

export interface DiagnosticsOptions {
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Probe the accelerator again even if a cached result matches. */
  recheck?: boolean;
}

const GiB = 1024 ** 3;
/** Below this the library line warns (one installed guest's disk), below FAIL_FREE it fails. */
const WARN_FREE = 10 * GiB;
const FAIL_FREE = 1 * GiB;

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

function installLine(platform: NodeJS.Platform, debian: string, brew: string): string {
  return platform === 'darwin' ? `brew install ${brew}` : `sudo apt install ${debian}`;
}

async function qemuLines(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, recheck: boolean): Promise<{ lines: Diagnostic[]; qemu?: QemuBinary }> {
  let qemu: QemuBinary;
  try {
    qemu = await findQemu(env);
  } catch (err) {
    const notFound = (err as Error).name === 'QemuNotFoundError';
    return {
      lines: [
        notFound ? { id: 'qemu', status: 'FAIL', summary: message(err).replace(`; ${QEMU_INSTALL_HINT}`, ''), fix: QEMU_INSTALL_HINT } : { id: 'qemu', status: 'FAIL', summary: message(err) },
        { id: 'display', status: 'FAIL', summary: 'not checked: no usable QEMU' },
        { id: 'accelerator', status: 'FAIL', summary: 'not checked: no usable QEMU' },
      ],
    };
  }
  const v = `${qemu.version.major}.${qemu.version.minor}.${qemu.version.micro}`;
  const lines: Diagnostic[] = [{ id: 'qemu', status: 'OK', summary: `QEMU ${v} at ${qemu.path}` }];
  lines.push(
    qemu.sharedMemoryDisplay
      ? { id: 'display', status: 'OK', summary: 'D-Bus display with Unix.Map: the guest screen is shared memory (memfd), not copied' }
      : { id: 'display', status: 'WARN', summary: `D-Bus display without Unix.Map (QEMU ${v} < 9.2): the guest screen is copied (slower)`, fix: QEMU_INSTALL_HINT },
  );
  const c = await resolveAccelerator({ env, qemu, recheck });
  const name = (a: string) => a.toUpperCase();
  const how = c.check ? ` (${c.source === 'cache' ? `checked ${c.check.checkedAt}` : 'checked now'}: ${c.check.reason})` : '';
  if (c.source === 'KJU_ACCEL' || c.source === 'given') {
    lines.push({ id: 'accelerator', status: 'OK', summary: `${name(c.accel)}, forced by KJU_ACCEL=${c.accel} (not checked)` });
  } else if (c.source === 'no-accelerator') {
    lines.push({
      id: 'accelerator',
      status: 'WARN',
      summary: 'no hardware accelerator here: software emulation (TCG), which is slower',
      fix: platform === 'linux' ? 'enable virtualization (VT-x/AMD-V) and make /dev/kvm usable: sudo usermod -aG kvm $USER, then log in again' : undefined,
    });
  } else if (c.notice) {
    lines.push({ id: 'accelerator', status: 'WARN', summary: `${c.notice}${how}`, fix: 'none needed: kju uses TCG; on a host whose KVM works, kju doctor --recheck checks again' });
  } else if (c.source === 'unchecked') {
    lines.push({ id: 'accelerator', status: 'WARN', summary: c.warning ?? `${name(c.accel)} not checked` });
  } else {
    lines.push({ id: 'accelerator', status: 'OK', summary: `${name(c.accel)} runs guests here${how}` });
  }
  if (c.warning && c.source !== 'unchecked') lines[lines.length - 1]!.summary += `; ${c.warning}`;
  return { lines, qemu };
}

function uefiLine(platform: NodeJS.Platform): Diagnostic {
  try {
    const fw = findUefiFirmware();
    return { id: 'uefi', status: 'OK', summary: `UEFI firmware (OVMF) at ${fw.code}` };
  } catch (err) {
    return { id: 'uefi', status: 'WARN', summary: `${message(err).split('. ')[0]}: VMs with UEFI firmware cannot start (BIOS ones can)`, fix: installLine(platform, 'ovmf', 'qemu') };
  }
}

/** `name` on PATH or in Homebrew's bin dirs. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | undefined {
  const dirs = (env.PATH ?? '').split(delimiter).filter(Boolean);
  if (platform === 'darwin') dirs.push('/opt/homebrew/bin', '/usr/local/bin');
  for (const dir of dirs) {
    try {
      if (statSync(join(dir, name)).isFile()) return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

function swtpmLine(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Diagnostic {
  const path = findOnPath('swtpm', env, platform);
  return path
    ? { id: 'swtpm', status: 'OK', summary: `swtpm at ${path} (virtual TPM)` }
    : { id: 'swtpm', status: 'WARN', summary: 'swtpm not found: no virtual TPM for guests that need one (Windows 11)', fix: installLine(platform, 'swtpm', 'swtpm') };
}

/** libvirt's client library, loaded at run time: without it kju works, but not on libvirt connections (kju -c). */
export function libvirtLine(platform: NodeJS.Platform, probe: typeof probeLibvirt = probeLibvirt): Diagnostic {
  let p: ReturnType<typeof probeLibvirt>;
  try {
    p = probe();
  } catch (err) {
    return { id: 'libvirt', status: 'WARN', summary: `libvirt could not be checked: ${message(err)}` };
  }
  return 'missing' in p
    ? { id: 'libvirt', status: 'WARN', summary: `${p.missing}: no libvirt connections (kju -c qemu:///system); kju's own VMs work`, fix: libvirtInstallHint(platform) }
    : { id: 'libvirt', status: 'OK', summary: `libvirt ${p.version} (${p.library}): kju -c qemu:///system reaches its VMs` };
}

/** kju as root runs QEMU and swtpm as an unprivileged user (qemu-user.ts): whether that user is there. Only when root. */
export function qemuUserLine(env: NodeJS.ProcessEnv, passwd?: string): Diagnostic {
  const name = qemuUserName(env);
  const user = lookupUser(name, passwd);
  if (!user) {
    return {
      id: 'qemu-user',
      status: 'FAIL',
      summary: `kju runs as root and runs QEMU and swtpm as the user "${name}", which does not exist: no VM can start`,
      fix: `${qemuUserFix(name)} (or set KJU_QEMU_USER)`,
    };
  }
  if (user.uid === 0) return { id: 'qemu-user', status: 'FAIL', summary: `KJU_QEMU_USER "${name}" is root: QEMU would keep root`, fix: 'set KJU_QEMU_USER to an unprivileged user' };
  return { id: 'qemu-user', status: 'OK', summary: `kju runs as root: QEMU and swtpm run as the unprivileged user "${name}" (uid ${user.uid}); shared folders must be readable (and writable) by it` };
}

const ELECTRON_BINARY: Partial<Record<NodeJS.Platform, string>> = { linux: 'electron', darwin: 'Electron.app/Contents/MacOS/Electron', win32: 'electron.exe' };

/** node_modules/electron/dist/<binary> as electron's own index.js finds it, without its download. */
export function electronBinary(platform: NodeJS.Platform, from = import.meta.url): { path?: string; looked: string } {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(from).resolve('electron/package.json'));
  } catch {
    return { looked: 'node_modules/electron (not installed)' };
  }
  let rel = ELECTRON_BINARY[platform] ?? 'electron';
  try {
    rel = readFileSync(join(pkgDir, 'path.txt'), 'utf8').trim() || rel;
  } catch {
    // install.js never finished: path.txt is written after the download
  }
  const path = join(pkgDir, 'dist', rel);
  try {
    if (statSync(path).isFile()) return { path, looked: path };
  } catch {
    // missing
  }
  return { looked: path };
}

function electronLine(platform: NodeJS.Platform): Diagnostic {
  const e = electronBinary(platform);
  return e.path
    ? { id: 'electron', status: 'OK', summary: `Electron at ${e.path}` }
    : {
        id: 'electron',
        status: 'WARN',
        summary: `no Electron binary (${e.looked}): no desktop window; \`npm start\` opens the same UI in a browser (kju serve)`,
        fix: 'node node_modules/electron/install.js (downloads it; needs the internet)',
      };
}

/** Free bytes for an unprivileged user on the file system that holds `path` (or its nearest existing parent). */
export function freeBytes(path: string): { bytes: number; at: string } {
  let at = path;
  for (;;) {
    try {
      const s = statfsSync(at);
      return { bytes: s.bavail * s.bsize, at };
    } catch (err) {
      const parent = dirname(at);
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || parent === at) throw err;
      at = parent;
    }
  }
}

export function libraryLine(env: NodeJS.ProcessEnv, free: (path: string) => { bytes: number; at: string } = freeBytes): Diagnostic {
  let path: string;
  try {
    path = resolveLibraryPath(env);
  } catch (err) {
    return { id: 'library', status: 'FAIL', summary: message(err) };
  }
  let f: { bytes: number; at: string };
  try {
    f = free(path);
  } catch (err) {
    return { id: 'library', status: 'FAIL', summary: `library ${path}: cannot read its free space: ${message(err)}` };
  }
  const where = f.at === path ? '' : ` (not created yet; measured at ${f.at})`;
  const summary = `library ${path}${where}: ${gib(f.bytes)} free`;
  const fix = 'free disk space, or move the library (KJU_LIBRARY, or libraryPath in the settings file)';
  if (f.bytes < FAIL_FREE) return { id: 'library', status: 'FAIL', summary: `${summary}: too little for a VM's disk`, fix };
  if (f.bytes < WARN_FREE) return { id: 'library', status: 'WARN', summary: `${summary}: room for little more than one small guest`, fix };
  return { id: 'library', status: 'OK', summary };
}

/** The runtime dir holds each VM's QMP and serial sockets: it must be ours and 0700 (runtime-dir.ts). */
export function runtimeDirLine(env: NodeJS.ProcessEnv, uid = process.getuid?.()): Diagnostic {
  const base = runtimeBase(env);
  // Without XDG_RUNTIME_DIR the parent /tmp/kju-<uid> is in a shared dir and must be private too.
  const dirs = env.XDG_RUNTIME_DIR ? [base] : [dirname(base), base];
  for (const dir of dirs) {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      return { id: 'runtime-dir', status: 'OK', summary: `runtime dir ${base}: not created yet (kju makes it 0700 at the first start)` };
    }
    const mode = (st.mode & 0o777).toString(8);
    if (st.isSymbolicLink() || !st.isDirectory()) {
      return { id: 'runtime-dir', status: 'FAIL', summary: `${dir} is not a directory (a symlink or file is in the way)`, fix: `remove ${dir}` };
    }
    if (uid !== undefined && st.uid !== uid) {
      return { id: 'runtime-dir', status: 'FAIL', summary: `${dir} belongs to uid ${st.uid}, not to you (uid ${uid})`, fix: `remove ${dir}, or set XDG_RUNTIME_DIR to a directory of yours` };
    }
    if (mode !== '700') {
      return { id: 'runtime-dir', status: 'WARN', summary: `${dir} has mode ${mode}, not 700: other users may reach the VMs' sockets`, fix: `chmod 700 ${dir} (kju also fixes it at the next start)` };
    }
  }
  return { id: 'runtime-dir', status: 'OK', summary: `runtime dir ${base}: yours, mode 700` };
}

/** Every line, in the order kju doctor prints them. Never rejects. */
export async function runDiagnostics(o: DiagnosticsOptions = {}): Promise<Diagnostic[]> {
  const env = o.env ?? process.env;
  const platform = o.platform ?? process.platform;
  const { lines } = await qemuLines(env, platform, o.recheck ?? false);
  const qemuUser = platform === 'linux' && dropsPrivileges() ? [qemuUserLine(env)] : [];
  return [...lines, uefiLine(platform), swtpmLine(env, platform), ...qemuUser, libvirtLine(platform), electronLine(platform), libraryLine(env), runtimeDirLine(env)];
}
