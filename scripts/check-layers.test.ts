// Runs scripts/check-layers.mjs on small source trees built in a temp dir: a tree that keeps the layer
// table must pass, and each tree with one bad import or one import circle must fail naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./check-layers.mjs', import.meta.url));

/** Imports that all keep the table, including the allowed exceptions and look-alikes that are no import. */
const goodTree: Record<string, string> = {
  'common/contract.ts': 'export type Vm = { name: string };\n',
  'native/index.ts': "import type { Vm } from '../common/contract.js';\nexport const addon = 1;\n",
  'native/test-fixtures/proc.ts': "import { addon } from '../index.js';\nexport const fd = addon;\n",
  'native/mapping.test.ts': "import { fd } from './test-fixtures/proc.js';\nimport { addon } from './index.js';\n",
  'main/util/u.ts': "import { readFileSync } from 'node:fs';\nexport const u = 1;\n",
  'main/dbus/p.ts': "import { addon } from '../../native/index.js';\nexport const p = 1;\n",
  'main/qmp/qmp-client.ts': "import { u } from '../util/u.js';\nexport const q = 1;\n",
  'main/qmp/qmp-fixtures.ts': "export { q } from './qmp-client.js';\n",
  'main/qemu/q.ts': "import { u } from '../util/u.js';\nexport const launch = 1;\n",
  'main/display/x.ts': [
    "import { u } from '../util/u.js';",
    "import type { Vm } from '../../common/contract.js';",
    "// import { y } from '../session/y.js' in a comment is no import",
    "const text = `await import('../session/y.js')`;",
    'const str = "require(\'../session/y.js\')";',
    "export const x = async () => (await import('../dbus/p.js')).p;",
    '',
  ].join('\n'),
  'main/display/x.test.ts': ["import { guest } from '../testing/guest.js';", "import { q } from '../qmp/qmp-fixtures.js';", "import { x } from './x.js';", ''].join('\n'),
  'main/library/l.ts': "import { launch } from '../qemu/q.js';\nexport const l = 1;\n",
  'main/session/y.ts': ["import { x } from '../display/x.js';", "import { l } from '../library/l.js';", "import { q } from '../qmp/qmp-client.js';", 'export const y = 1;', ''].join('\n'),
  'main/backend/b.ts': "import { y } from '../session/y.js';\nexport const b = 1;\n",
  'main/serve/s.ts': "import { b } from '../backend/b.js';\nimport { WebSocketServer } from 'ws';\nexport const s = 1;\n",
  'main/cli/serve-command.ts': "import { s } from '../serve/s.js';\nexport const run = 1;\n",
  'main/electron/ipc/channels.ts': "import type { Vm } from '../../../common/contract.js';\nexport const channels = [];\n",
  'main/electron/main/m.ts': "import { app } from 'electron';\nimport { channels } from '../ipc/channels.js';\nimport { b } from '../../backend/b.js';\n",
  'main/electron/utility/w.ts': "import { channels } from '../ipc/channels.js';\nimport { x } from '../../display/x.js';\n",
  'main/electron/preload/pre.ts': "import { channels } from '../ipc/channels.js';\n",
  'main/display/x.integration.test.ts': "import { y } from '../session/y.js';\nimport { guest } from '../testing/guest.js';\n",
  'main/testing/guest.ts': "import { y } from '../session/y.js';\nimport { launch } from '../qemu/q.js';\nexport const guest = 1;\n",
  'main/util/tsx-boot.mjs': "const m = await import('./u.js');\n",
  'renderer/ui/App.tsx': [
    "import type { Vm } from '../../common/contract.js';",
    "import './styles.css';",
    "export const App = () => <p>Don't import '../../main/session/y.js' here</p>;",
    "const lazy = () => import('../state/store.js');",
    '',
  ].join('\n'),
  'renderer/state/store.ts': "import { create } from 'zustand';\nexport const store = 1;\n",
  'renderer/testing/ui-page.tsx': "import { App } from '../ui/App.js';\n",
};

function runCheck(extra: Record<string, string>): { status: number | null; violations: string[]; summary: string; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), 'kju-layers-'));
  try {
    for (const [path, text] of Object.entries({ ...goodTree, ...extra })) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
    const lines = r.stdout.trim().split('\n');
    return { status: r.status, violations: lines.slice(0, -1), summary: lines.at(-1) ?? '', stderr: r.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('a tree that keeps the layer table passes', () => {
  const r = runCheck({});
  assert.equal(r.stderr, '');
  assert.deepEqual(r.violations, []);
  assert.match(r.summary, new RegExp(`^check-layers: no violations, 0 circles in ${Object.keys(goodTree).length} files$`));
  assert.equal(r.status, 0);
});

const badImports: { name: string; files: Record<string, string>; expect: string[] }[] = [
  {
    name: 'an upward import (display → session)',
    files: { 'main/display/bad.ts': "import { u } from '../util/u.js';\n\nimport { y } from '../session/y.js';\n" },
    expect: ['main/display/bad.ts:3: display may not import session (../session/y.js)'],
  },
  {
    name: 'an upward import type split over lines',
    files: { 'main/session/bad.ts': "import type {\n  b,\n} from '../backend/b.js';\n" },
    expect: ['main/session/bad.ts:3: session may not import backend (../backend/b.js)'],
  },
  {
    name: 'a renderer file importing main/',
    files: { 'renderer/ui/Bad.tsx': "import type { Vm } from '../../common/contract.js';\nimport { y } from '../../main/session/y.js';\nexport const Bad = () => <div />;\n" },
    expect: ['renderer/ui/Bad.tsx:2: renderer may not import session (../../main/session/y.js)'],
  },
  {
    name: 'a same-rank sibling import (qmp → qemu)',
    files: { 'main/qmp/bad.ts': "import { launch } from '../qemu/q.js';\n" },
    expect: ['main/qmp/bad.ts:1: qmp may not import qemu (../qemu/q.js)'],
  },
  {
    name: 'the cli → serve exception does not run the other way',
    files: { 'main/serve/bad.ts': "import { run } from '../cli/serve-command.js';\n" },
    expect: ['main/serve/bad.ts:1: serve may not import cli (../cli/serve-command.js)'],
  },
  {
    name: 'a dynamic import()',
    files: { 'main/util/bad.ts': "export async function later() {\n  return import('../display/x.js');\n}\n" },
    expect: ['main/util/bad.ts:2: util may not import display (../display/x.js)'],
  },
  {
    name: 'an export … from',
    files: { 'common/bad.ts': "export type { Vm } from './contract.js';\nexport { u } from '../main/util/u.js';\n" },
    expect: ['common/bad.ts:2: common may not import util (../main/util/u.js)'],
  },
  {
    name: 'a require() in a .js file and import = require() in TypeScript',
    files: {
      'main/qemu/bad.js': "const { y } = require('../session/y.js');\n",
      'main/qemu/bad2.ts': "import y = require('../session/y.js');\n",
    },
    expect: ['main/qemu/bad.js:1: qemu may not import session (../session/y.js)', 'main/qemu/bad2.ts:1: qemu may not import session (../session/y.js)'],
  },
  {
    name: "an import('…') type",
    files: { 'main/library/bad.ts': "export type S = typeof import('../session/y.js');\n" },
    expect: ['main/library/bad.ts:1: library may not import session (../session/y.js)'],
  },
  {
    name: 'native importing main/',
    files: { 'native/bad.ts': "import { u } from '../main/util/u.js';\n" },
    expect: ['native/bad.ts:1: native may not import util (../main/util/u.js)'],
  },
  {
    name: 'a folder under main/ that the table does not know, and an import of it',
    files: {
      'main/gadgets/g.ts': "import { u } from '../util/u.js';\nexport const g = 1;\n",
      'main/display/bad.ts': "import { g } from '../gadgets/g.js';\n",
    },
    expect: [
      'main/display/bad.ts:1: display may not import main/gadgets (../gadgets/g.js): main/gadgets is not in the layer table; add it to RANKS in scripts/check-layers.mjs',
      'main/gadgets/g.ts:1: main/gadgets is not in the layer table; add it to RANKS in scripts/check-layers.mjs',
    ],
  },
  {
    name: 'a file directly in main/',
    files: { 'main/loose.ts': 'export const loose = 1;\n' },
    expect: ['main/loose.ts:1: main/ (a file directly in main/) is not in the layer table; add it to RANKS in scripts/check-layers.mjs'],
  },
  {
    name: 'electron preload importing the Electron main process, and utility importing preload',
    files: {
      'main/electron/preload/bad.ts': "import { b } from '../main/m.js';\n",
      'main/electron/utility/bad.ts': "import '../preload/pre.js';\n",
    },
    expect: [
      'main/electron/preload/bad.ts:1: electron/preload may not import electron/main (../main/m.js): they run in different processes',
      'main/electron/utility/bad.ts:1: electron/utility may not import electron/preload (../preload/pre.js): they run in different processes',
    ],
  },
  {
    name: 'non-test code importing main/testing, a test fixture, or renderer/testing',
    files: {
      'main/session/bad.ts': "import { guest } from '../testing/guest.js';\nimport { q } from '../qmp/qmp-fixtures.js';\n",
      'renderer/ui/Bad.tsx': "import '../testing/ui-page.js';\n",
    },
    expect: [
      'main/session/bad.ts:1: session may not import testing (../testing/guest.js): test support is for *.test.ts files, bench/ and e2e/ only',
      'main/session/bad.ts:2: session may not import qmp test fixtures (../qmp/qmp-fixtures.js): test support is for *.test.ts files, bench/ and e2e/ only',
      'renderer/ui/Bad.tsx:1: renderer may not import renderer/testing (../testing/ui-page.js): test support is for *.test.ts files, bench/ and e2e/ only',
    ],
  },
  {
    name: 'a test file importing upward outside test support',
    files: { 'main/display/bad.test.ts': "import { guest } from '../testing/guest.js';\nimport { y } from '../session/y.js';\n" },
    expect: ['main/display/bad.test.ts:2: display may not import session (../session/y.js)'],
  },
  {
    name: 'an integration test importing outside main/',
    files: { 'main/display/bad.integration.test.ts': "import { y } from '../session/y.js';\nimport { App } from '../../renderer/ui/App.js';\n" },
    expect: ['main/display/bad.integration.test.ts:2: display may not import renderer (../../renderer/ui/App.js)'],
  },
  {
    name: 'an import reaching outside the checked folders',
    files: { 'main/util/bad.ts': "import { rig } from '../../bench/rig.js';\n" },
    expect: ['main/util/bad.ts:1: util may not import bench (../../bench/rig.js)'],
  },
];

for (const { name, files, expect } of badImports) {
  test(`fails on ${name}`, () => {
    const r = runCheck(files);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.violations, expect);
    assert.equal(r.summary, `check-layers: ${expect.length} violation${expect.length === 1 ? '' : 's'}, 0 circles in ${Object.keys({ ...goodTree, ...files }).length} files`);
    assert.equal(r.status, 1);
  });
}

const circles: { name: string; files: Record<string, string>; expect: string[] }[] = [
  {
    name: 'two files of one folder importing each other (a type-only import counts)',
    files: {
      'main/dbus/a.ts': "import type { B } from './b.js';\nexport type A = { b?: B };\n",
      'main/dbus/b.ts': "import type { A } from './a.js';\nexport type B = { a?: A };\n",
    },
    expect: ['main/dbus/a.ts: import circle main/dbus/a.ts → main/dbus/b.ts → main/dbus/a.ts: move what they share into a lower module'],
  },
  {
    name: 'a circle through three files and two folders of allowed imports',
    files: {
      'main/session/c1.ts': "import { c2 } from './c2.js';\nexport const c1 = 1;\n",
      'main/session/c2.ts': "export const c2 = async () => (await import('../session/c3.js')).c3;\n",
      'main/session/c3.ts': "import { c1 } from './c1.js';\nimport { y } from './y.js';\nexport const c3 = 1;\n",
    },
    expect: ['main/session/c1.ts: import circle main/session/c1.ts → main/session/c2.ts → main/session/c3.ts → main/session/c1.ts: move what they share into a lower module'],
  },
  {
    name: 'a file importing itself',
    files: { 'main/util/self.ts': "export { u } from './self.js';\n" },
    expect: ['main/util/self.ts: import circle main/util/self.ts → main/util/self.ts: move what they share into a lower module'],
  },
];

for (const { name, files, expect } of circles) {
  test(`fails on an import circle: ${name}`, () => {
    const r = runCheck(files);
    assert.equal(r.stderr, '');
    assert.deepEqual(r.violations, expect);
    assert.equal(r.summary, `check-layers: no violations, ${expect.length} circle${expect.length === 1 ? '' : 's'} in ${Object.keys({ ...goodTree, ...files }).length} files`);
    assert.equal(r.status, 1);
  });
}
