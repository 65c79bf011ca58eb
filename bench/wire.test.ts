import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumKind, parseReportLine, wallOffset } from './wire.js';

test('parseReportLine reads page reports from Chromium console log lines and nothing else', () => {
  const json = { page: 'kju', t: 1.5, s: 'a\nb "q" }' };
  const line = `[28050:28050:1123/083033.280085:INFO:CONSOLE:1] "KJUBENCH ${JSON.stringify(json)}", source: http://127.0.0.1:4000/index.js (1)`;
  assert.deepEqual(parseReportLine(line), json);
  const old = `[1:1:0101/000000.000000:INFO:CONSOLE(12)] "KJUBENCH {"n":1}", source: x (12)`;
  assert.deepEqual(parseReportLine(old), { n: 1 });
  assert.equal(parseReportLine('[1:1:0101/000000.000000:INFO:CONSOLE:1] "hello", source: x (1)'), null);
  assert.equal(parseReportLine('[1:1:0101/000000.000000:ERROR:dbus/bus.cc:405] "KJUBENCH {"n":1}"'), null);
  assert.equal(parseReportLine('[1:1:0101/000000.000000:INFO:CONSOLE:1] "KJUBENCH {broken", source: x'), null);
  assert.equal(parseReportLine(''), null);
});

test('wallOffset finds the offset of a fine clock from a whole-ms clock', () => {
  // system clock advances 3 µs per read; the fine clock is 0.25 ms ahead of it
  let now = 1_000_000.9;
  const sys = () => (now += 0.003);
  const dateNow = () => Math.floor(sys());
  const wall = () => sys() + 0.25;
  const off = wallOffset(wall, dateNow, 5);
  assert.ok(Math.abs(off - 0.25) < 0.01, `offset ${off}`);
  assert.throws(
    () =>
      wallOffset(
        () => 0,
        () => 5,
        1,
      ),
    /did not advance/,
  );
});

test('chromiumKind sorts Chromium processes by their command line', () => {
  assert.equal(chromiumKind('/usr/lib/chromium/chromium --headless --no-sandbox about:blank'), 'browser');
  assert.equal(chromiumKind('/usr/lib/chromium/chromium --type=renderer --enable-logging'), 'renderer');
  assert.equal(chromiumKind('/usr/lib/chromium/chromium --type=gpu-process --use-gl=angle'), 'gpu');
  assert.equal(chromiumKind('/usr/lib/chromium/chromium --type=utility --utility-sub-type=network.mojom.NetworkService'), 'network');
  assert.equal(chromiumKind('/usr/lib/chromium/chromium --type=utility --utility-sub-type=storage.mojom.StorageService'), 'other');
  assert.equal(chromiumKind('/usr/lib/chromium/chromium --type=zygote'), 'other');
});
