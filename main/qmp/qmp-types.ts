// Types of the QMP messages and of the commands kju uses (QEMU's qapi/*.json is the reference).
// Commands not listed here still work through the untyped `execute<T>(name, args)` overload.

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
  | 'debug' | 'inmigrate' | 'internal-error' | 'io-error' | 'paused' | 'postmigrate'
  | 'prelaunch' | 'finish-migrate' | 'restore-vm' | 'running' | 'save-vm' | 'shutdown'
  | 'suspended' | 'watchdog' | 'guest-panicked' | 'colo';

export type QmpInputEvent =
  | { type: 'key'; data: { down: boolean; key: { type: 'qcode'; data: string } | { type: 'number'; data: number } } }
  | { type: 'btn'; data: { down: boolean; button: 'left' | 'middle' | 'right' | 'wheel-up' | 'wheel-down' | 'side' | 'extra' | 'wheel-left' | 'wheel-right' } }
  | { type: 'abs' | 'rel'; data: { axis: 'x' | 'y'; value: number } };

type NoArgs = Record<string, never> | undefined;

/** Command name -> arguments and return type. */
export interface QmpCommands {
  qmp_capabilities: { args: { enable?: string[] } | undefined; ret: Record<string, never> };
  'query-status': { args: NoArgs; ret: { running: boolean; singlestep?: boolean; status: QmpRunState } };
  'query-version': {
    args: NoArgs;
    ret: { qemu: { major: number; minor: number; micro: number }; package: string };
  };
  'query-name': { args: NoArgs; ret: { name?: string } };
  'query-display-options': { args: NoArgs; ret: { type: string; [key: string]: unknown } };
  getfd: { args: { fdname: string }; ret: Record<string, never> };
  closefd: { args: { fdname: string }; ret: Record<string, never> };
  add_client: {
    args: { protocol: string; fdname: string; skipauth?: boolean; tls?: boolean };
    ret: Record<string, never>;
  };
  quit: { args: NoArgs; ret: Record<string, never> };
  stop: { args: NoArgs; ret: Record<string, never> };
  cont: { args: NoArgs; ret: Record<string, never> };
  system_reset: { args: NoArgs; ret: Record<string, never> };
  system_powerdown: { args: NoArgs; ret: Record<string, never> };
  'input-send-event': { args: { device?: string; head?: number; events: QmpInputEvent[] }; ret: Record<string, never> };
  'send-key': {
    args: { keys: ({ type: 'qcode'; data: string } | { type: 'number'; data: number })[]; 'hold-time'?: number };
    ret: Record<string, never>;
  };
  screendump: { args: { filename: string; device?: string; head?: number; format?: 'ppm' | 'png' }; ret: Record<string, never> };
  'human-monitor-command': { args: { 'command-line': string; 'cpu-index'?: number }; ret: string };
}

export type QmpCommandName = keyof QmpCommands;
export type QmpArgs<K extends QmpCommandName> = QmpCommands[K]['args'];
export type QmpReturn<K extends QmpCommandName> = QmpCommands[K]['ret'];
