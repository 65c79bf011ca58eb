// Integration (real QEMU under TCG, real OVMF Secure Boot firmware with Microsoft's keys, real swtpm,
// a temp library, the CLI): the Windows 11 preset's VM reaches the firmware screen with TPM and
// Secure Boot on; Debian's signed shim → GRUB → kernel boots with Secure Boot enabled; an unsigned
// EFI binary is refused by the firmware, whose screen kju shows.
import assert from 'node:assert/strict';
import { pidsOf as pidsOfTest } from '../testing/test-processes.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ensureDemoGuest, type DemoGuest } from '../testing/guest.js';
import { kjuScratch } from '../testing/kju-scratch.js';
import { SerialConsole } from '../testing/serial-console.js';
import type { RuntimeDir } from '../qemu/runtime-dir.js';
import { buildEsp, signedBootChain, stripSignature, type SignedBootChain } from '../testing/secure-boot-esp.js';
import { decodePng } from '../display/screenshot.js';

const s = kjuScratch('kju-sb');
const { ok, runtimeDirOf, dir: scratch } = s;
const pidsOf = (program: 'qemu-system' | 'swtpm'): number[] => pidsOfTest(program, scratch);
/**
 * kju's screenshot of `name` once the firmware has set its own graphics mode (QEMU's 640x480 "Guest
 * has not initialized the display" placeholder does not count), with the share of lit pixels.
 */
async function firmwareScreen(name: string, ms = 120_000): Promise<{ width: number; height: number; lit: number }> {
  const png = join(scratch, `${name}.png`);
  const deadline = Date.now() + ms;
  for (;;) {
    ok('screenshot', name, png);
    const img = decodePng(readFileSync(png));
    if (img.width !== 640 || img.height !== 480) {
      let lit = 0;
      for (let i = 0; i < img.rgb.length; i += 3) if (img.rgb[i]! + img.rgb[i + 1]! + img.rgb[i + 2]! > 96) lit++;
      return { width: img.width, height: img.height, lit: lit / (img.width * img.height) };
    }
    assert.ok(Date.now() < deadline, `the firmware did not set a graphics mode within ${ms} ms`);
    await sleep(2000);
  }
}
/** Everything the serial port says until `pattern` appears (firmware text is mirrored there too). */
async function serialUntil(rt: RuntimeDir, pattern: RegExp, ms: number): Promise<string> {
  const serial = await SerialConsole.connect(rt.serialSocket);
  try {
    await serial.waitFor(pattern, ms);
    return serial.output;
  } finally {
    serial.close();
  }
}

let guest: DemoGuest;
let chain: SignedBootChain;

describe('integration: Secure Boot and the Windows 11 preset', () => {
  before(async () => {
    guest = await ensureDemoGuest();
    chain = signedBootChain();
  });
  after(() => {
    for (const pid of [...pidsOf('qemu-system'), ...pidsOf('swtpm')]) process.kill(pid, 'SIGKILL');
    s.remove();
  });

  test('Debian signed shim → GRUB → kernel boots with the SecureBoot EFI variable = 1', async () => {
    const esp = join(scratch, 'signed-esp.img');
    const grubCfg = Buffer.from(`set timeout=0\nset default=0\nsearch --file --set=root /kju-vmlinuz\nmenuentry kju {\n  linux /kju-vmlinuz ${guest.append}\n  initrd /kju-initrd.img\n}\n`);
    buildEsp(esp, {
      'EFI/BOOT/BOOTX64.EFI': readFileSync(chain.shim),
      'EFI/BOOT/grubx64.efi': readFileSync(chain.grub),
      'EFI/BOOT/grub.cfg': grubCfg,
      'EFI/debian/grub.cfg': grubCfg,
      'boot/grub/grub.cfg': grubCfg,
      'kju-vmlinuz': readFileSync(guest.kernel),
      'kju-initrd.img': readFileSync(guest.initrd),
    });
    ok('create', 'Signed', '--memory', '512', '--cpus', '1', '--nic', 'none', '--secure-boot', '--disk', esp, '--disk-mode', 'reference');
    ok('start', 'Signed');
    const rt = runtimeDirOf('Signed');
    const serial = await SerialConsole.connect(rt.serialSocket);
    try {
      await serial.waitFor(/kju# /, 300_000);
      await serial.run('grep -q efivarfs /proc/mounts || mount -t efivarfs efivarfs /sys/firmware/efi/efivars');
      // efivarfs: 4 bytes of attributes, then the value
      const sb = await serial.run('od -An -tx1 /sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c');
      assert.equal(sb.trim().split(/\s+/).at(-1), '01', `SecureBoot variable: ${sb}`);
      assert.match(await serial.run('dmesg | grep -i "secure boot"'), /Secure boot enabled/i);
    } finally {
      serial.close();
    }
    ok('stop', 'Signed', '--force');
  });

  test('an unsigned EFI binary is refused by the firmware (Access Denied), and kju shows the firmware screen', async () => {
    const esp = join(scratch, 'unsigned-esp.img');
    buildEsp(esp, { 'EFI/BOOT/BOOTX64.EFI': stripSignature(readFileSync(chain.shim)) });
    ok('create', 'Unsigned', '--memory', '256', '--cpus', '1', '--nic', 'none', '--secure-boot', '--disk', esp, '--disk-mode', 'reference');
    ok('start', 'Unsigned');
    const rt = runtimeDirOf('Unsigned');
    const said = await serialUntil(rt, /No bootable option or device was found/, 180_000);
    assert.match(said, /failed to load Boot\d+ .*Access Denied/s, 'the firmware refused the unsigned loader');
    assert.ok(pidsOf('qemu-system').length >= 1, 'QEMU is still running: the firmware waits, no hang or crash');
    const screen = await firmwareScreen('Unsigned');
    assert.ok(screen.lit > 0.001, `the firmware's text is on the screen kju shows (${JSON.stringify(screen)})`);
    ok('stop', 'Unsigned', '--force');
  });

  test('the Windows 11 preset VM reaches the firmware screen with TPM and Secure Boot on', async () => {
    const created = JSON.parse(ok('create', 'Win11', '--preset', 'windows', '--json')) as { config: Record<string, unknown> };
    assert.equal(created.config.secureBoot, true);
    assert.equal(created.config.tpm, true);
    const started = JSON.parse(ok('start', 'Win11', '--json')) as { logFile: string };
    assert.equal(pidsOf('swtpm').length, 1, 'swtpm runs for the VM');
    const rt = runtimeDirOf('Win11');
    const argv = readFileSync(started.logFile, 'utf8');
    for (const part of ['q35,smm=on', 'OVMF_CODE_4M.secboot.fd', 'tpm-crb,tpmdev=kju-tpm0', 'user,model=e1000e', 'intel-hda', '-vga std', '-m 4096M']) {
      assert.ok(argv.includes(part), `QEMU started with ${part}`);
    }
    // no Windows media here: the firmware finds nothing to boot and says so (after trying PXE)
    await serialUntil(rt, /BdsDxe/, 240_000);
    const screen = await firmwareScreen('Win11');
    assert.ok(screen.lit > 0.001, `the firmware screen is shown (${JSON.stringify(screen)})`);
    ok('stop', 'Win11', '--force');
  });
});
