// Starts a worker thread from an entry next to the caller: `name.ts` when running from sources
// (through tsx), `name.js` when running from the esbuild bundle (all entries sit flat in app/out/).
import { Worker, type TransferListItem } from 'node:worker_threads';

export function spawnWorker(callerUrl: string, name: string, workerData: Record<string, unknown>, transferList?: TransferListItem[]): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, callerUrl);
  if (!fromSource) return new Worker(entry, { workerData, transferList });
  const boot = new URL('./tsx-worker-boot.mjs', import.meta.url);
  return new Worker(boot, { workerData: { ...workerData, __entry: entry.href }, transferList });
}
