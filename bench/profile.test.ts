import { test } from 'node:test';
import assert from 'node:assert/strict';
import { profileStages, selfTimes, type CpuProfile } from './profile.js';

// root → hub.pull (display-hub.ts) → encodeFramePacket (frame-pump.ts) → (garbage collector)
const prof: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 5] },
    { id: 2, callFrame: { functionName: 'pull', url: 'file:///k/main/serve/display-hub.ts', lineNumber: 9 }, children: [3] },
    { id: 3, callFrame: { functionName: 'encodeFramePacket', url: 'file:///k/main/display/frame-pump.ts', lineNumber: 41 }, children: [4] },
    { id: 4, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
    { id: 5, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
  ],
  startTime: 0,
  endTime: 10_000,
  // sample i lasts timeDeltas[i + 1] µs
  samples: [2, 3, 3, 4, 5],
  timeDeltas: [0, 1000, 2000, 3000, 4000],
};

test('selfTimes charges each sample the time to the next one', () => {
  const s = selfTimes(prof);
  assert.deepEqual(
    s.map((x) => [x.name, x.ms]),
    [
      ['encodeFramePacket display/frame-pump.ts:42', 5],
      ['(garbage collector)', 4],
      ['pull serve/display-hub.ts:10', 1],
    ],
  );
});

test('profileStages counts a sample once per stage on its stack', () => {
  const st = new Map(profileStages(prof).map((x) => [x.stage, x.ms]));
  assert.equal(st.get('encodeFramePacket (FramePacket build + copies)'), 9);
  assert.equal(st.get('DisplayHub / serve (viewer pacing)'), 10);
  assert.equal(st.get('(garbage collector)'), 4);
  assert.equal(st.get('DamageQueue (add/take)'), 0);
});
