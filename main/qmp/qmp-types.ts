// Types of the QMP messages and of exactly the commands kju sends (QEMU's qapi/*.json is the
// reference). QmpClient's untyped `execute<T>(name, args)` overload is for tests of the client itself.

export interface QmpGreeting {
  QMP: {
    version: { qemu: { major: number; minor: number; micro: number }; package: string };
    capabilities: string[];
  };
}

export interface QmpEvent<D = Record<string, unknown>> {
  event: string;
  data: D;
  /** QEMU's host clock when the event was raised. */
  timestamp: { seconds: number; microseconds: number };
}

export type QmpRunState =
  | 'debug'
  | 'inmigrate'
  | 'internal-error'
  | 'io-error'
  | 'paused'
  | 'postmigrate'
  | 'prelaunch'
  | 'finish-migrate'
  | 'restore-vm'
  | 'running'
  | 'save-vm'
  | 'shutdown'
  | 'suspended'
  | 'watchdog'
  | 'guest-panicked'
  | 'colo';

type NoArgs = Record<string, never> | undefined;
type Empty = Record<string, never>;

/** A `MigrationChannel` of QEMU ≥ 8.2 (migration.json); kju only writes to and reads from files. */
export interface QmpMigrationChannel {
  'channel-type': 'main';
  addr: { transport: 'file'; filename: string; offset: number };
}

/** `MigrationInfo` (migration.json), the fields kju reads. */
export interface QmpMigrationInfo {
  status?:
    | 'none'
    | 'setup'
    | 'cancelling'
    | 'cancelled'
    | 'active'
    | 'postcopy-active'
    | 'postcopy-paused'
    | 'postcopy-recover-setup'
    | 'postcopy-recover'
    | 'completed'
    | 'failed'
    | 'colo'
    | 'pre-switchover'
    | 'device'
    | 'wait-unplug';
  'error-desc'?: string;
  ram?: { transferred: number; total: number; remaining: number };
}

/** `BlockInfo` (block-core.json), the fields kju reads. */
export interface QmpBlockInfo {
  device: string;
  qdev?: string;
  removable: boolean;
  locked: boolean;
  tray_open?: boolean;
  inserted?: { file: string; 'node-name'?: string; ro: boolean; drv: string };
}

/** `JobInfo` (job.json), the fields kju reads. */
export interface QmpJobInfo {
  id: string;
  type: string;
  status: 'undefined' | 'created' | 'running' | 'paused' | 'ready' | 'standby' | 'waiting' | 'pending' | 'aborting' | 'concluded' | 'null';
  error?: string;
}

/** snapshot-save / snapshot-load arguments (migration.json, QEMU ≥ 6.0). */
interface SnapshotJobArgs {
  'job-id': string;
  tag: string;
  vmstate: string;
  devices: string[];
}

/**
 * Command name -> arguments and return type: exactly the commands kju sends (main/, and the tests'
 * and e2e's own checks: screendump, query-name, query-display-options, send-key, query-mice).
 */
export interface QmpCommands {
  qmp_capabilities: { args: { enable?: string[] } | undefined; ret: Empty };
  'query-status': { args: NoArgs; ret: { running: boolean; singlestep?: boolean; status: QmpRunState } };
  'query-name': { args: NoArgs; ret: { name?: string } };
  'query-display-options': { args: NoArgs; ret: { type: string; [key: string]: unknown } };
  'query-mice': { args: NoArgs; ret: { name: string; index: number; current: boolean; absolute: boolean }[] };
  getfd: { args: { fdname: string }; ret: Empty };
  // files QEMU opens after it dropped root (qmp/fdset.ts): kju opens them and hands them over
  'add-fd': { args: { 'fdset-id'?: number; opaque?: string }; ret: { 'fdset-id': number; fd: number } };
  'remove-fd': { args: { 'fdset-id': number; fd?: number }; ret: Empty };
  'query-fdsets': { args: NoArgs; ret: { 'fdset-id': number; fds: { fd: number; opaque?: string }[] }[] };
  closefd: { args: { fdname: string }; ret: Empty };
  add_client: {
    args: { protocol: string; fdname: string; skipauth?: boolean; tls?: boolean };
    ret: Empty;
  };
  quit: { args: NoArgs; ret: Empty };
  stop: { args: NoArgs; ret: Empty };
  cont: { args: NoArgs; ret: Empty };
  system_reset: { args: NoArgs; ret: Empty };
  system_powerdown: { args: NoArgs; ret: Empty };
  'send-key': {
    args: { keys: ({ type: 'qcode'; data: string } | { type: 'number'; data: number })[]; 'hold-time'?: number };
    ret: Empty;
  };
  screendump: { args: { filename: string; device?: string; head?: number; format?: 'ppm' | 'png' }; ret: Empty };
  // suspend to disk and resume (session/lifecycle.ts)
  migrate: { args: { channels: QmpMigrationChannel[] }; ret: Empty };
  'migrate-incoming': { args: { channels: QmpMigrationChannel[] }; ret: Empty };
  'migrate-set-parameters': { args: { 'max-bandwidth'?: number }; ret: Empty };
  migrate_cancel: { args: NoArgs; ret: Empty };
  'query-migrate': { args: NoArgs; ret: QmpMigrationInfo };
  // live snapshots (session/lifecycle.ts)
  'snapshot-save': { args: SnapshotJobArgs; ret: Empty };
  'snapshot-load': { args: SnapshotJobArgs; ret: Empty };
  'snapshot-delete': { args: Omit<SnapshotJobArgs, 'vmstate'>; ret: Empty };
  'query-jobs': { args: NoArgs; ret: QmpJobInfo[] };
  'job-dismiss': { args: { id: string }; ret: Empty };
  // the CD-ROM drive (session/media.ts)
  'blockdev-change-medium': {
    args: { id: string; filename: string; format?: string; force?: boolean; 'read-only-mode'?: 'retain' | 'read-only' | 'read-write' };
    ret: Empty;
  };
  eject: { args: { id: string; force?: boolean }; ret: Empty };
  'query-block': { args: NoArgs; ret: QmpBlockInfo[] };
  // port forwards while running (session/port-forwards.ts): QEMU 10 has no QMP command for hostfwd
  'human-monitor-command': { args: { 'command-line': string }; ret: string };
  // USB devices while running (session/usb.ts), and the tests' emulated stand-in
  device_add: { args: { driver: string; id: string; [prop: string]: string | number | boolean }; ret: Empty };
  device_del: { args: { id: string }; ret: Empty };
  'qom-list': { args: { path: string }; ret: { name: string; type: string }[] };
  'blockdev-add': { args: { driver: string; 'node-name': string; [opt: string]: unknown }; ret: Empty };
}

export type QmpCommandName = keyof QmpCommands;
export type QmpArgs<K extends QmpCommandName> = QmpCommands[K]['args'];
export type QmpReturn<K extends QmpCommandName> = QmpCommands[K]['ret'];

/**
 * The typed part of QmpClient that QMP users below the client need (session lifecycle, media);
 * tests hand them a scripted fake. Runs on the loop of whoever holds the QMP connection.
 */
export interface QmpExecutor {
  execute<K extends QmpCommandName>(command: K, ...args: undefined extends QmpArgs<K> ? [QmpArgs<K>?] : [QmpArgs<K>]): Promise<QmpReturn<K>>;
}

/** A QmpExecutor that can also send an fd with a command (SCM_RIGHTS), for `add-fd` and `getfd`. */
export interface QmpFdExecutor extends QmpExecutor {
  executeWithFd<K extends QmpCommandName>(command: K, args: QmpArgs<K>, fd: number): Promise<QmpReturn<K>>;
}
