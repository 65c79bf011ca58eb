#!/usr/bin/env node
// Puts the demo guest (scripts/build-demo-guest.sh) into the library as its first VM, "Demo",
// unless a VM of that name is there already.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = process.env.KJU_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kju');
const guest = JSON.parse(readFileSync(join(cache, 'guest', 'guest.json'), 'utf8'));
const kju = (args) => spawnSync(process.execPath, [join(root, 'bin/kju.mjs'), ...args], { encoding: 'utf8' });

const list = kju(['list', '--json']);
if (list.status !== 0) {
  console.error(`setup: kju list failed: ${list.stderr.trim()}`);
  process.exit(1);
}
const vms = JSON.parse(list.stdout); // an array of VmSummary
const demo = vms.find((v) => v.name.toLowerCase() === 'demo');
if (demo) {
  // A Demo made before kju confirmed outside paths per library names the cached kernel unconfirmed:
  // setup made those files, so it confirms them (kju edit --accept-outside), once.
  if (demo.problem && /outside its bundle/.test(demo.problem)) {
    const ok = kju(['edit', demo.name, '--accept-outside', guest.kernel, '--accept-outside', guest.initrd]);
    if (ok.status !== 0) {
      console.error(`setup: could not confirm the Demo VM's kernel: ${ok.stderr.trim()}`);
      process.exit(1);
    }
    console.log("setup: confirmed the Demo VM's kernel and initrd (outside its bundle) in this library");
  }
  console.log('setup: the library already has the Demo VM');
  process.exit(0);
}
const r = kju([
  'create',
  'Demo',
  '--preset',
  'linux',
  '--memory',
  '256',
  '--cpus',
  '1',
  '--display',
  'virtio-vga',
  '--no-disk',
  '--kernel',
  guest.kernel,
  '--initrd',
  guest.initrd,
  '--append',
  guest.append,
]);
if (r.status !== 0) {
  console.error(`setup: could not create the Demo VM: ${r.stderr.trim()}`);
  process.exit(1);
}
console.log('setup: created the Demo VM (a Debian kernel with a busybox shell) in the library');
