import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { LibraryError } from './library-error.js';
import { withDiskFull } from './disk-full.js';

test('a real ENOSPC (a write to /dev/full) becomes DISK_FULL with what stopped; other errors pass through', async () => {
  const enospc = await writeFile('/dev/full', 'x').then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.equal((enospc as NodeJS.ErrnoException).code, 'ENOSPC');
  const mapped = withDiskFull(enospc, 'creating VM "A" stopped, nothing was added');
  assert.ok(mapped instanceof LibraryError);
  assert.equal(mapped.code, 'disk-full');
  assert.match(mapped.message, /^the disk holding the library is full: creating VM "A" stopped, nothing was added \(ENOSPC.*\); free some space and try again$/);
  assert.equal(mapped.cause, enospc);
  const other = new Error('EACCES');
  assert.equal(withDiskFull(other, 'x'), other);
});
