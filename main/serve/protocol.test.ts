import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBackendRequest, parseDisplayTarget, parseViewerMessage } from './protocol.js';

const surface = { width: 640, height: 480 };
const kind = (text: string) => parseViewerMessage(text, surface).kind;

test('viewer messages: JSON text is parsed, then checked by main/backend/arg-checks.ts', () => {
  const input = { t: 'key', down: true, qnum: 0x1c };
  assert.deepEqual(parseViewerMessage(JSON.stringify({ t: 'input', input }), surface), { kind: 'ok', value: { t: 'input', input } });
  assert.deepEqual(parseViewerMessage('{"t":"pull"}', surface), { kind: 'ok', value: { t: 'pull' } });
  assert.equal(kind('{"t":"input","input":{"t":"key","down":true,"qnum":512}}'), 'fatal');
  assert.equal(kind('{"t":"input","input":{"t":"abs","x":640,"y":0}}'), 'drop');
});

test('viewer text that is not JSON is fatal', () => {
  for (const text of ['', 'not json', '{"t":"pull"', '{"t":"pull"}x']) assert.equal(kind(text), 'fatal', text);
});

test('backend requests: ok, error replies for unknown methods and bad args, fatal for framing errors', () => {
  assert.deepEqual(parseBackendRequest('{"id":1,"method":"listVms","args":{}}'), { kind: 'ok', value: { id: 1, method: 'listVms', args: {} } });
  assert.deepEqual(parseBackendRequest('{"id":"a","method":"listVms"}'), { kind: 'ok', value: { id: 'a', method: 'listVms', args: {} } });
  assert.deepEqual(parseBackendRequest('{"id":2,"method":"stopVm","args":{"id":"x","force":true}}'), {
    kind: 'ok',
    value: { id: 2, method: 'stopVm', args: { id: 'x', force: true } },
  });
  const unknown = parseBackendRequest('{"id":3,"method":"rmRf","args":{}}');
  assert.equal(unknown.kind, 'reply');
  assert.equal(unknown.kind === 'reply' && !unknown.result.ok && unknown.result.code, 'unknown-method');
  for (const args of ['{"id":5}', '{}', '{"id":""}', '{"id":"x","force":"yes"}', '[]', '"x"']) {
    const r = parseBackendRequest(`{"id":4,"method":"stopVm","args":${args}}`);
    assert.equal(r.kind === 'reply' && !r.result.ok && r.result.code, 'bad-args', args);
  }
  assert.equal(parseBackendRequest('{"id":4,"method":"toString","args":{}}').kind, 'reply');
  assert.equal(parseBackendRequest('{"id":4,"method":"__proto__","args":{}}').kind, 'reply');
  for (const text of [
    'nope',
    '[]',
    '{"method":"listVms"}',
    '{"id":-1,"method":"listVms"}',
    '{"id":1.5,"method":"listVms"}',
    `{"id":"${'x'.repeat(65)}","method":"listVms"}`,
    '{"id":1,"method":7}',
    '{"id":1,"method":"listVms","x":1}',
  ]) {
    assert.equal(parseBackendRequest(text).kind, 'fatal', text);
  }
});

test('display targets need a vm id and a small console number', () => {
  assert.deepEqual(parseDisplayTarget(new URLSearchParams('vm=a&console=2')), { vmId: 'a', console: 2 });
  assert.deepEqual(parseDisplayTarget(new URLSearchParams('vm=a')), { vmId: 'a', console: 0 });
  for (const q of ['', 'console=1', 'vm=a&console=-1', 'vm=a&console=x', 'vm=a&console=1e3', 'vm=a&console=1000']) assert.equal(parseDisplayTarget(new URLSearchParams(q)), null, q);
});
