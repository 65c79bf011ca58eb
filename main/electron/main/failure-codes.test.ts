import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLIPBOARD_MAX_BYTES, type Failure, type Result } from '../../../common/contract.js';
import { KjuError, isKjuErrorCode } from '../../../common/errors.js';
import { toFailure } from '../../backend/failure.js';
import { checkCall } from '../../backend/arg-checks.js';
import { readHostClipboard, writeHostClipboard } from './host-clipboard.js';

const failed = (r: Result<unknown> | { ok: true }): Failure => {
  assert.equal(r.ok, false);
  return r as Failure;
};

test("every layer's failures carry a code of KJU_ERROR_CODES at run time too", async () => {
  const host = { readText: () => 'ä'.repeat(CLIPBOARD_MAX_BYTES), writeText: () => {} };
  const failures: Failure[] = [
    // the backend: a kju error, a bug, and the argument checks
    toFailure(new KjuError('not-running', 'VM "A" is not running')),
    toFailure(new Error('boom'), 'startVm', () => {}),
    failed(checkCall('noSuchMethod', {})),
    failed(checkCall('startVm', { id: 7 })),
    // Electron's main process: the host clipboard a VM window reads and writes
    failed(await readHostClipboard({ vmWindow: false, focused: true }, host)),
    failed(await readHostClipboard({ vmWindow: true, focused: true }, host)),
    failed(await writeHostClipboard({ vmWindow: true, focused: true }, 42, host)),
  ];
  assert.deepEqual(
    failures.map((f) => f.code),
    ['not-running', 'internal', 'unknown-method', 'bad-args', 'forbidden', 'too-large', 'bad-args'],
  );
  for (const f of failures) assert.ok(isKjuErrorCode(f.code), f.code);
});
