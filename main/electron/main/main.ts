// Electron main entry (bundled to app/out/electron-main.js): the same backend as `kju serve`
// (library + sessions, re-attaching VMs that outlived the last app), then the shell.
// Zero-copy display is off unless KJU_ZERO_COPY=1 (a settings entry later).
import { createLocalBackend } from '../../backend/local-backend.js';
import { unavailableBackend, type Backend } from '../../backend/backend.js';
import { startApp } from './app-shell.js';

async function chooseBackend(): Promise<Backend> {
  try {
    return await createLocalBackend();
  } catch (err) {
    // Still open the window: the library view then says what is wrong instead of the app vanishing.
    return unavailableBackend(`the VM library could not be opened: ${(err as Error).message}`);
  }
}

startApp({ backend: await chooseBackend(), zeroCopy: process.env.KJU_ZERO_COPY === '1' });
