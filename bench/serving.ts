// The orchestrator's handle on a serving child (bench/serve-child.ts): fork, request/reply over
// IPC, and a clean exit (which is when --cpu-prof writes its profile). Node event loop.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ChildMessage, ChildRequest, ExitReply, MarkReply, RecordsReply, SharedCloseReply, SharedOpenReply, StartReply } from './serving-protocol.js';

export interface ServingChild {
  pid: number;
  url: string;
  mark(): Promise<MarkReply>;
  records(from: number, to: number): Promise<RecordsReply>;
  paint(durationMs: number, rate: number): Promise<number>;
  sharedOpen(): Promise<SharedOpenReply>;
  sharedClose(): Promise<SharedCloseReply>;
  /** asks the child to close and exit; kills it if it does not within 10 s */
  close(): Promise<ExitReply | undefined>;
}

/** The serve page for display `vm` (bench/page/kju-page.tsx reads ?vm=); the token stays in the fragment. */
export function pageUrl(serveUrl: string, vm: string): string {
  const u = new URL(serveUrl);
  u.searchParams.set('vm', vm);
  return u.href;
}

const entry = fileURLToPath(new URL('./serve-child.ts', import.meta.url));

export async function startServing(start: Extract<ChildRequest, { op: 'start' }>, opts: { log: (l: string) => void; profileDir?: string }): Promise<ServingChild> {
  const execArgv = ['--import', 'tsx'];
  if (opts.profileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${opts.profileDir}`);
  const child: ChildProcess = fork(entry, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let gone: Error | null = null;
  child.on('message', (m: ChildMessage) => {
    if ('t' in m) return opts.log(m.line);
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.ok) w.resolve(m.value);
    else w.reject(new Error(`serving child: ${m.error}`));
  });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, sig) => {
      gone = new Error(`serving child exited (${sig ?? code})`);
      for (const w of waiting.values()) w.reject(gone);
      waiting.clear();
      resolve();
    }),
  );
  const request = <T>(req: ChildRequest): Promise<T> => {
    if (gone) return Promise.reject(gone);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, req });
    });
  };
  const kill = async () => {
    if (!gone) child.kill('SIGKILL');
    await exited;
  };
  let closing: Promise<ExitReply | undefined> | undefined;
  try {
    const { url } = await request<StartReply>(start);
    return {
      pid: child.pid!,
      url,
      mark: () => request<MarkReply>({ op: 'mark' }),
      records: (from, to) => request<RecordsReply>({ op: 'records', from, to }),
      paint: (durationMs, rate) => request<number>({ op: 'paint', durationMs, rate }),
      sharedOpen: () => request<SharedOpenReply>({ op: 'shared-open' }),
      sharedClose: () => request<SharedCloseReply>({ op: 'shared-close' }),
      close: () =>
        (closing ??= (async () => {
          if (gone) return undefined;
          const timer = setTimeout(() => void kill(), 10_000);
          try {
            const r = await request<ExitReply>({ op: 'exit' }).catch(() => undefined);
            await exited;
            return r;
          } finally {
            clearTimeout(timer);
          }
        })()),
    };
  } catch (e) {
    await kill();
    throw e;
  }
}
