// Runs a TypeScript worker entry under tsx: new Worker(this file, { workerData: { entry: fileURL, ... } }).
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
