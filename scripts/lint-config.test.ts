// The lint step can fail: ESLint's config flags an unused variable in the main process and a hook called
// conditionally in the renderer, and Prettier's config rejects a file it would reformat.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import * as prettier from 'prettier';

const root = fileURLToPath(new URL('..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return result.messages.map((m) => m.ruleId ?? m.message);
}

test('ESLint flags an unused variable in the main process and passes the same code without it', async () => {
  assert.deepEqual(await ruleIds('const unused = 1;\nexport const used = 2;\n', 'main/util/planted.ts'), ['@typescript-eslint/no-unused-vars']);
  assert.deepEqual(await ruleIds('export const used = 2;\n', 'main/util/planted.ts'), []);
});

test("ESLint applies React's hooks rules in the renderer", async () => {
  const code = "import { useState } from 'react';\nexport function C({ on }: { on: boolean }) {\n  if (on) useState(0);\n  return null;\n}\n";
  assert.ok((await ruleIds(code, 'renderer/ui/Planted.tsx')).includes('react-hooks/rules-of-hooks'));
});

test("Prettier's config rejects double quotes and accepts its own output", async () => {
  const options = { ...(await prettier.resolveConfig(`${root}main/util/planted.ts`)), filepath: `${root}main/util/planted.ts` };
  assert.equal(options.singleQuote, true, '.prettierrc.json is found');
  const bad = 'export const s = "x";\n';
  assert.equal(await prettier.check(bad, options), false);
  assert.equal(await prettier.check(await prettier.format(bad, options), options), true);
});
