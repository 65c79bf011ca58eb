import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseControlRequest, parseDisplayTarget, parseViewerMessage } from './protocol.js';

const surface = { width: 640, height: 480 };
const kind = (text: string) => parseViewerMessage(text, surface).kind;

test('valid viewer messages parse to exactly what was sent', () => {
  const inputs = [
    { t: 'key', down: true, qnum: 0x1c },
    { t: 'key', down: false, qnum: 0x1ff },
    { t: 'button', down: true, button: 8 },
    { t: 'abs', x: 639, y: 479 },
    { t: 'rel', dx: -5, dy: 32767 },
    { t: 'releaseAll' },
    { t: 'uiInfo', width: 1920, height: 1080 },
  ];
  for (const input of inputs) assert.deepEqual(parseViewerMessage(JSON.stringify({ t: 'input', input }), surface), { kind: 'ok', value: { t: 'input', input } });
  assert.deepEqual(parseViewerMessage('{"t":"pull"}', surface), { kind: 'ok', value: { t: 'pull' } });
});

test('malformed or out-of-range viewer messages are fatal', () => {
  const bad = [
    '',
    'not json',
    '{"t":"pull"',
    'null',
    '[]',
    '42',
    '"pull"',
    '{}',
    '{"t":"pull","extra":1}',
    '{"t":"frobnicate"}',
    '{"t":"input"}',
    '{"t":"input","input":null}',
    '{"t":"input","input":{"t":"key","down":true,"qnum":512}}',
    '{"t":"input","input":{"t":"key","down":true,"qnum":-1}}',
    '{"t":"input","input":{"t":"key","down":true,"qnum":1.5}}',
    '{"t":"input","input":{"t":"key","down":"yes","qnum":1}}',
    '{"t":"input","input":{"t":"key","down":true,"qnum":"28"}}',
    '{"t":"input","input":{"t":"key","down":true}}',
    '{"t":"input","input":{"t":"key","down":true,"qnum":1,"x":2}}',
    '{"t":"input","input":{"t":"button","down":true,"button":9}}',
    '{"t":"input","input":{"t":"button","down":true,"button":-1}}',
    '{"t":"input","input":{"t":"abs","x":-1,"y":0}}',
    '{"t":"input","input":{"t":"abs","x":1e9,"y":0}}',
    '{"t":"input","input":{"t":"abs","x":1,"y":null}}',
    '{"t":"input","input":{"t":"rel","dx":40000,"dy":0}}',
    '{"t":"input","input":{"t":"releaseAll","all":true}}',
    '{"t":"input","input":{"t":"uiInfo","width":0,"height":10}}',
    '{"t":"input","input":{"t":"uiInfo","width":99999,"height":10}}',
    '{"t":"input","input":{"t":"warp"}}',
    '{"t":"input","input":{"t":"key","down":true,"qnum":1},"more":1}',
  ];
  for (const text of bad) assert.equal(kind(text), 'fatal', text);
});

test('abs positions outside the current surface are dropped, not fatal (they race with resizes)', () => {
  assert.equal(kind('{"t":"input","input":{"t":"abs","x":640,"y":0}}'), 'drop');
  assert.equal(kind('{"t":"input","input":{"t":"abs","x":0,"y":480}}'), 'drop');
  assert.equal(parseViewerMessage('{"t":"input","input":{"t":"abs","x":0,"y":0}}', null).kind, 'drop');
});

test('control requests: ok, error replies for unknown methods and bad args, fatal for framing errors', () => {
  assert.deepEqual(parseControlRequest('{"id":1,"method":"listVms","args":{}}'), { kind: 'ok', value: { id: 1, method: 'listVms', args: {} } });
  assert.deepEqual(parseControlRequest('{"id":"a","method":"listVms"}'), { kind: 'ok', value: { id: 'a', method: 'listVms', args: {} } });
  assert.deepEqual(parseControlRequest('{"id":2,"method":"stopVm","args":{"id":"x","force":true}}'), {
    kind: 'ok',
    value: { id: 2, method: 'stopVm', args: { id: 'x', force: true } },
  });
  const unknown = parseControlRequest('{"id":3,"method":"rmRf","args":{}}');
  assert.equal(unknown.kind, 'reply');
  assert.equal(unknown.kind === 'reply' && !unknown.result.ok && unknown.result.code, 'unknown-method');
  for (const args of ['{"id":5}', '{}', '{"id":""}', '{"id":"x","force":"yes"}', '[]', '"x"']) {
    const r = parseControlRequest(`{"id":4,"method":"stopVm","args":${args}}`);
    assert.equal(r.kind === 'reply' && !r.result.ok && r.result.code, 'bad-args', args);
  }
  assert.equal(parseControlRequest('{"id":4,"method":"toString","args":{}}').kind, 'reply');
  assert.equal(parseControlRequest('{"id":4,"method":"__proto__","args":{}}').kind, 'reply');
  for (const text of ['nope', '[]', '{"method":"listVms"}', '{"id":-1,"method":"listVms"}', '{"id":1.5,"method":"listVms"}', `{"id":"${'x'.repeat(65)}","method":"listVms"}`, '{"id":1,"method":7}', '{"id":1,"method":"listVms","x":1}']) {
    assert.equal(parseControlRequest(text).kind, 'fatal', text);
  }
});

test('display targets need a vm id and a small console number', () => {
  assert.deepEqual(parseDisplayTarget(new URLSearchParams('vm=a&console=2')), { vmId: 'a', console: 2 });
  assert.deepEqual(parseDisplayTarget(new URLSearchParams('vm=a')), { vmId: 'a', console: 0 });
  for (const q of ['', 'console=1', 'vm=a&console=-1', 'vm=a&console=x', 'vm=a&console=1e3', 'vm=a&console=1000']) assert.equal(parseDisplayTarget(new URLSearchParams(q)), null, q);
});
