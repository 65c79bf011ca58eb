// Integration (real QEMU, TCG): what other tests rely on in the demo guest.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootDemoGuest } from './guest.js';

test('integration: virtio-vga guest: framebuffer, shells on tty1 and ttyS0 with controlling ttys, USB tablet, typing on tty1', async (t) => {
  const g = await bootDemoGuest({ displayDevice: 'virtio-vga' });
  t.after(() => g.stop());
  t.diagnostic(`virtio-vga: boot to prompt ${g.bootMs} ms`);
  assert.equal(await g.serial.run('cat /sys/class/graphics/fb0/name'), 'virtio_gpudrmfb');
  assert.equal(await g.serial.run('tty'), '/dev/ttyS0');

  // tty_nr (field 7 of /proc/<pid>/stat) of every shell: 1025 = tty1 (4:1), 1088 = ttyS0 (4:64).
  const ttys = await g.serial.run(`for p in $(pidof sh); do cut -d' ' -f7 /proc/$p/stat; done | sort -u`);
  assert.deepEqual(ttys.split('\n'), ['1025', '1088']);

  // The tablet may enumerate after the prompt under TCG: poll for it.
  await g.serial.run('i=0; until grep -q "USB Tablet" /proc/bus/input/devices; do i=$((i+1)); [ $i -gt 100 ] && exit 1; sleep 0.2; done', { timeoutMs: 40_000 });

  // Typing on the framebuffer console reaches the tty1 shell (paced: the PS/2 queue is short).
  for (const key of ['t', 'o', 'u', 'c', 'h', 'spc', 'slash', 't', 'm', 'p', 'slash', 'k', 'ret']) {
    await g.qmp.execute('send-key', { keys: [{ type: 'qcode', data: key }] });
    await new Promise((r) => setTimeout(r, 60));
  }
  await g.serial.run('i=0; until [ -e /tmp/k ]; do i=$((i+1)); [ $i -gt 50 ] && exit 1; sleep 0.2; done', { timeoutMs: 20_000 });
});

test('integration: serial.run copes with output without a final newline and with stderr', async (t) => {
  const g = await bootDemoGuest({ displayDevice: 'std', tablet: false });
  t.after(() => g.stop());
  assert.equal(await g.serial.run('printf abc'), 'abc');
  assert.equal(await g.serial.run('echo out; echo err >&2'), 'out\nerr');
  const [a, b] = await Promise.all([g.serial.run('echo one'), g.serial.run('echo two')]);
  assert.deepEqual([a, b], ['one', 'two']);
  const long = await g.serial.run('i=0; while [ $i -lt 200 ]; do echo line$i; i=$((i+1)); done');
  assert.equal(long.split('\n').length, 200);
  assert.equal(long.split('\n')[199], 'line199');
});
