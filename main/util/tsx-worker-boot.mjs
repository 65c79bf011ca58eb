// Worker bootstrap used only when running from TypeScript sources (tests, `node --import tsx`):
// registers tsx in the worker, then loads the real entry named in workerData.__entry.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__entry);
