import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { SessionManager } from '../session/session-manager.js';
import { LocalBackend } from './local-backend.js';
import { CHILD, PARENT, fakeDb, withDb } from '../os/osinfo-fixtures.js';

test('the backend answers osCatalogue with the filtered list and refuses bad arguments', async () => {
  const dir = fakeDb({ 'example.org/tux-1.xml': PARENT, 'example.org/tux-2.xml': CHILD });
  try {
    await withDb(dir, async () => {
      const backend = new LocalBackend({ library: { host: { cpus: 1, memoryMiB: 1024 } } } as unknown as SessionManager);
      const r = await backend.call('osCatalogue', { text: 'tux' });
      assert.ok(r.ok);
      assert.deepEqual(
        r.value.entries.map((e) => e.id),
        ['tux2', 'tux1'],
      );
      assert.equal(r.value.version, '20240101');
      const bad = await (backend.call as (m: string, a: unknown) => Promise<{ ok: boolean; code?: string }>)('osCatalogue', { text: 5 });
      assert.equal(bad.code, 'bad-args');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
