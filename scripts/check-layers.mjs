#!/usr/bin/env node
// Fails when a relative import crosses the layer table below, or when files import each other in a
// circle (any length, type-only imports included) (run by `npm test` after the type-check).
// Usage: node scripts/check-layers.mjs [root]   (root defaults to this checkout; tests pass fixture trees)

// Lower ranks know nothing of what uses them, so each can be tested and reused without the ranks above
// it: a file may import its own folder and strictly lower ranks, never a sibling of the same rank.
// `common` and `native` are top-level folders; every other name is a folder under `main/`.
const RANKS = [['common'], ['native'], ['util'], ['qmp', 'dbus', 'qemu', 'input', 'libvirt'], ['display', 'library', 'os'], ['session'], ['backend'], ['serve', 'cli', 'electron']];
// Same-rank imports that are allowed anyway, as [from, to].
const SIBLING_EXCEPTIONS = [['cli', 'serve']]; // the `kju serve` command starts the server
// main/electron/<part>/: the parts run in different processes (Electron main, utility, preload);
// ipc is shared by them, so it may import none of them.
const ELECTRON_PARTS_APART = {
  main: ['preload'],
  utility: ['preload'],
  preload: ['main', 'utility'],
  ipc: ['main', 'utility', 'preload'],
};
// renderer/ runs in the browser: it sees only the contract and itself.
const RENDERER_MAY_IMPORT = ['common', 'renderer'];
// Test support, importable only by test files (and bench/, e2e/, which this check does not read):
// main/testing/ (which may import anything in main/), renderer/testing/, and test fixtures.
const TEST_FILE = /\.test\.(ts|tsx|mjs|js)$/;
// Integration tests (they boot QEMU) prove layers working together, so they may import any of main/;
// unit tests keep their folder's rule.
const INTEGRATION_TEST = /\.integration\.test\.(ts|tsx|mjs|js)$/;
const FIXTURE = /(^|\/)(test-)?fixtures\/|(^|[-.])fixtures?\.(ts|tsx|mjs|js)$/;

const SOURCE_ROOTS = ['common', 'native', 'main', 'renderer'];
const SOURCE_FILE = /\.(ts|tsx|mjs|js)$/;
const SKIP_DIRS = new Set(['node_modules', 'native/build']);

import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const rankOf = new Map(RANKS.flatMap((names, rank) => names.map((n) => [n, rank])));
const mainFolders = new Set([...rankOf.keys()].filter((n) => n !== 'common' && n !== 'native'));

/** Where a repository-relative path sits in the table. `unknown` names a folder the table lacks;
 *  `outside` names a top-level folder the check does not cover. */
function classify(rel) {
  const parts = rel.split('/');
  const fixture = FIXTURE.test(rel);
  switch (parts[0]) {
    case 'common':
    case 'native':
      return { layer: parts[0], name: parts[0], testSupport: fixture, fixture };
    case 'renderer': {
      const testing = parts[1] === 'testing' && parts.length > 2;
      return { layer: 'renderer', name: testing ? 'renderer/testing' : 'renderer', testSupport: testing || fixture, fixture };
    }
    case 'main': {
      const folder = parts.length > 2 ? parts[1] : undefined;
      if (folder === 'testing') return { layer: 'testing', name: 'testing', testSupport: true, fixture };
      if (folder === undefined || !mainFolders.has(folder)) {
        return { unknown: folder === undefined ? 'main/ (a file directly in main/)' : `main/${folder}` };
      }
      const part = folder === 'electron' && parts.length > 3 ? parts[2] : undefined;
      return { layer: folder, part, name: part ? `electron/${part}` : folder, testSupport: fixture, fixture };
    }
    default:
      return { outside: parts[0] === '..' ? 'a file outside the repository' : parts[0] };
  }
}

/** Why `from` (a classified file) may not import `to`, or undefined when it may. */
function refusal(from, to, fromIsTest) {
  const unknownHint = (folder) => `${folder} is not in the layer table; add it to RANKS in scripts/check-layers.mjs`;
  if (to.outside) return { to: to.outside };
  if (to.unknown) return { to: to.unknown, hint: unknownHint(to.unknown) };
  const toName = to.fixture ? `${to.name} test fixtures` : to.name;
  const importerIsTestSupport = fromIsTest || from.testSupport;
  if (to.testSupport && !importerIsTestSupport) {
    return { to: toName, hint: 'test support is for *.test.ts files, bench/ and e2e/ only' };
  }
  if (importerIsTestSupport && (to.layer === 'testing' || to.fixture)) return undefined;
  if (from.layer === 'renderer') return RENDERER_MAY_IMPORT.includes(to.layer) ? undefined : { to: toName };
  if (to.layer === 'renderer') return { to: toName };
  if (from.layer === 'testing') return undefined; // to is common, native or a main/ folder here
  if (to.layer === 'testing') return { to: toName };
  if (from.layer === to.layer) {
    return from.part && to.part && ELECTRON_PARTS_APART[from.part]?.includes(to.part) ? { to: toName, hint: 'they run in different processes' } : undefined;
  }
  if (rankOf.get(to.layer) < rankOf.get(from.layer)) return undefined;
  if (SIBLING_EXCEPTIONS.some(([f, t]) => f === from.layer && t === to.layer)) return undefined;
  return { to: toName };
}

/** Every module specifier in a source file with its 1-based line: import / import type / export … from,
 *  import x = require(), dynamic import() and require() with a string literal, and import('…') types. */
function specifiersOf(file, text) {
  const kind = file.endsWith('.tsx') ? ts.ScriptKind.TSX : file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const found = [];
  const add = (node) => {
    if (node && ts.isStringLiteralLike(node)) {
      found.push({ spec: node.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
    }
  };
  const visit = (node) => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      add(node.moduleReference.expression);
    } else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isRequire = ts.isIdentifier(callee) && callee.text === 'require';
      if ((isImport || isRequire) && node.arguments.length >= 1) add(node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function sourceFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const name of readdirSync(join(root, dir)).sort()) {
      const rel = posix.join(dir, name);
      if (SKIP_DIRS.has(name) || SKIP_DIRS.has(rel) || name.startsWith('.')) continue;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (SOURCE_FILE.test(name)) out.push(rel);
    }
  };
  for (const dir of SOURCE_ROOTS) if (existsSync(join(root, dir))) walk(dir);
  return out;
}

/** The violations under `root`, one message line each, in file order. */
function checkLayers(root) {
  const violations = [];
  const files = sourceFiles(root);
  /** file → the source files it imports (relative imports only) */
  const edges = new Map();
  for (const file of files) {
    const from = classify(file);
    if (from.unknown) {
      violations.push(`${file}:1: ${from.unknown} is not in the layer table; add it to RANKS in scripts/check-layers.mjs`);
      continue;
    }
    const fromIsTest = TEST_FILE.test(file);
    for (const { spec, line } of specifiersOf(file, readFileSync(join(root, file), 'utf8'))) {
      if (!spec.startsWith('./') && !spec.startsWith('../') && spec !== '.' && spec !== '..') continue;
      const target = posix.normalize(posix.join(posix.dirname(file), spec));
      const to = classify(target);
      if (INTEGRATION_TEST.test(file) && file.startsWith('main/') && target.startsWith('main/') && !to.unknown) continue;
      const resolved = resolveSource(root, target);
      if (resolved) (edges.get(file) ?? edges.set(file, new Set()).get(file)).add(resolved);
      const why = refusal(from, to, fromIsTest);
      if (why) violations.push(`${file}:${line}: ${from.name} may not import ${why.to} (${spec})${why.hint ? `: ${why.hint}` : ''}`);
    }
  }
  return { violations, circles: circlesOf(files, edges), files: files.length };
}

/** The source file an import's target path names: `x.js` may be written for x.ts / x.tsx / x.mjs. */
function resolveSource(root, target) {
  const stem = target.replace(/\.(js|mjs|ts|tsx)$/, '');
  for (const ext of ['.ts', '.tsx', '.js', '.mjs']) {
    const f = stem + ext;
    if (existsSync(join(root, f)) && statSync(join(root, f)).isFile()) return f;
  }
  return undefined;
}

/** Each import circle as the file list around it (one per strongly connected component, Tarjan). */
function circlesOf(files, edges) {
  const index = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const circles = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || edges.get(v)?.has(v)) circles.push(pathAround(component, edges));
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return circles;
}

/** One concrete circle inside a strongly connected component, starting from its first file by name. */
function pathAround(component, edges) {
  const members = new Set(component);
  const start = [...component].sort()[0];
  // breadth-first from start back to start, inside the component
  const prev = new Map();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift();
    for (const w of [...(edges.get(v) ?? [])].sort()) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

const root = resolve(process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url)));
if (!existsSync(root)) {
  console.error(`check-layers: ${root} does not exist; pass the repository root`);
  process.exit(2);
}
const { violations, circles, files } = checkLayers(root);
for (const v of violations) console.log(v);
for (const c of circles) console.log(`${c[0]}: import circle ${c.join(' → ')}: move what they share into a lower module`);
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
console.log(`check-layers: ${violations.length ? plural(violations.length, 'violation') : 'no violations'}, ${plural(circles.length, 'circle')} in ${files} files`);
process.exit(violations.length || circles.length ? 1 : 0);
