import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JitterBuffer } from './jitter-buffer.js';

const block = (frames: number) => [new Float32Array(frames), new Float32Array(frames)];
/** stereo frames whose left sample is its index from `start`, right the negative */
const ramp = (start: number, frames: number) => {
  const s = new Float32Array(frames * 2);
  for (let i = 0; i < frames; i++) {
    s[i * 2] = start + i;
    s[i * 2 + 1] = -(start + i);
  }
  return s;
};

test('waits for the target, then plays frames in order and deinterleaved; marks come back when played', () => {
  const jb = new JitterBuffer(2, 4, 16);
  jb.push(ramp(0, 3), 100);
  const out = block(2);
  assert.deepEqual(jb.pull(out), []);
  assert.deepEqual([...out[0]], [0, 0], 'silence while below the target');
  assert.equal(jb.underruns, 0, 'not playing yet is not an underrun');
  jb.push(ramp(3, 3), 200);
  assert.deepEqual(jb.pull(out), [100]);
  assert.deepEqual([...out[0], ...out[1]], [0, 1, -0, -1]);
  assert.deepEqual(jb.pull(out), [200], 'the second chunk starts at frame 3');
  assert.deepEqual([...out[0]], [2, 3]);
  assert.deepEqual(jb.pull(out), []);
  assert.deepEqual([...out[0]], [4, 5]);
});

test('running dry is one underrun, padded with silence, then it waits for the target again', () => {
  const jb = new JitterBuffer(2, 2, 16);
  jb.push(ramp(1, 3), 0);
  const out = block(4);
  jb.pull(out);
  assert.deepEqual([...out[0]], [1, 2, 3, 0]);
  assert.equal(jb.underruns, 1);
  jb.push(ramp(9, 1), 0);
  jb.pull(out);
  assert.deepEqual([...out[0]], [0, 0, 0, 0], 'below the target again');
  assert.equal(jb.underruns, 1);
});

test('past the bound the oldest frames go, so the delay stays bounded', () => {
  const jb = new JitterBuffer(2, 2, 8);
  jb.push(ramp(0, 6), 1);
  jb.push(ramp(6, 6), 2);
  assert.equal(jb.queuedFrames, 8);
  assert.equal(jb.droppedFrames, 4);
  const out = block(8);
  assert.deepEqual(jb.pull(out), [2], 'the first chunk was dropped unplayed');
  assert.deepEqual([...out[0]], [4, 5, 6, 7, 8, 9, 10, 11]);
  jb.push(ramp(0, 20), 3);
  assert.equal(jb.queuedFrames, 8);
  jb.pull(out);
  assert.deepEqual([...out[0]], [12, 13, 14, 15, 16, 17, 18, 19]);
});

test('a mono source fills every output channel', () => {
  const jb = new JitterBuffer(1, 1, 8);
  jb.push(new Float32Array([0.5, 0.25]), 0);
  const out = block(2);
  jb.pull(out);
  assert.deepEqual([...out[0], ...out[1]], [0.5, 0.25, 0.5, 0.25]);
});
