// Electron main entry (bundled to app/out/electron-main.js). Chooses the backend and starts the
// shell. The backend is main/serve/local-backend.ts (the same one `kju serve` uses) once it exists
// and grows the AppBackend extras; until then a stand-in that lists nothing and says why.
// Zero-copy display is off unless KJU_ZERO_COPY=1 (a settings entry later).
import type { AppBackend } from './app-backend.js';
import { unavailableBackend } from './app-backend.js';
import { startApp } from './app-shell.js';

function chooseBackend(): AppBackend {
  return unavailableBackend('the VM backend (main/serve/local-backend.ts) is not part of this build yet; use the kju CLI meanwhile');
}

startApp({ backend: chooseBackend(), zeroCopy: process.env.KJU_ZERO_COPY === '1' });
