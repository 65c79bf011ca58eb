// QEMU's own screenshot (QMP screendump), which tests compare kju's display with. The file is
// opened by kju and handed over as an fd set (qmp/fdset.ts): QEMU may run as a user that cannot
// write where kju can. Runs on the loop of whoever holds QMP.
import { withFileFdset } from '../qmp/fdset.js';
import type { QmpArgs, QmpFdExecutor } from '../qmp/qmp-types.js';

/** Writes QEMU's screendump (PPM unless `opts.format` says png) of the console or head in `opts` to `file`. */
export async function screendumpToFile(qmp: QmpFdExecutor, file: string, opts: Omit<QmpArgs<'screendump'>, 'filename'> = {}): Promise<void> {
  await withFileFdset(qmp, file, 'write', (filename) => qmp.execute('screendump', { filename, ...opts }));
}
