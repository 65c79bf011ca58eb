// `kju create`: a new VM bundle from a preset, with a new qcow2 disk or an existing image.
import { CliError } from '../cli-error.js';
import { EXISTING_DISK_MODES, VM_DISPLAY_DEVICES, VM_SOUND_DEVICES } from '../../../common/contract.js';
import { DISK_BUSES, FIRMWARES, MACHINES, NICS } from '../../library/bundle-config.js';
import { PRESET_DEFAULTS, presetFromName } from '../../library/presets.js';
import { createVm } from '../../library/vm-create.js';
import { GUEST_LINK_USAGE, HARDWARE_OPTIONS, hardwareValues, oneOf, parseCommandArgs, printJson, USAGE_EXIT, withLibrary } from './library-cli.js';

const USAGE = `usage: kju create <name> [options]

  --preset P        ${Object.keys(PRESET_DEFAULTS).join(', ')} (freedos = dos); default linux
  --memory M        MiB, or 512M / 2G (default: the preset's, capped at the host's)
  --cpus N
  --disk-size S     new qcow2 disk, e.g. 64M, 20G (default: the preset's)
  --no-disk         no disk at all (e.g. a kernel-only guest)
  --disk FILE       use an existing image instead of a new disk
  --disk-mode M     copy (default: converted to qcow2 in the bundle), link (qcow2 overlay in the
                    bundle on top of FILE, which must then stay unchanged), reference (use FILE in place)
  --trust-backing F a backing (or data) file FILE reads that you mean the VM to read; any other
                    is refused (repeatable; with --disk-mode copy the chain is flattened into the copy)
  --iso FILE        CD-ROM image
  --display D       ${VM_DISPLAY_DEVICES.join(', ')}
  --displays N      heads (monitors) of the display device, 1-4; more than 1 needs virtio-vga
  --nic N           ${NICS.join(', ')}
  --machine M       ${MACHINES.join(', ')}
  --firmware F      ${FIRMWARES.join(', ')}
  --bus B           disk bus: ${DISK_BUSES.join(', ')}
  --tablet / --no-tablet   USB tablet for an absolute pointer
  --clipboard / --no-clipboard   share the clipboard with the guest's spice-vdagent (default off: a VM sharing its clipboard cannot be suspended)
  --tpm / --no-tpm          a TPM 2.0 (swtpm; its state lives in the bundle)
  --secure-boot / --no-secure-boot   UEFI Secure Boot with Microsoft's keys (implies UEFI, q35 with SMM)
  --sound S         ${VM_SOUND_DEVICES.join(', ')} (default from the preset: intel-hda, sb16 for dos)
  --kernel FILE --initrd FILE --append "ARGS"   direct kernel boot
  --notes TEXT
${GUEST_LINK_USAGE}
  --json            print the new VM's config as JSON`;

const OPTIONS = {
  ...HARDWARE_OPTIONS,
  preset: { type: 'string' },
  'disk-size': { type: 'string' },
  'no-disk': { type: 'boolean' },
  disk: { type: 'string' },
  'disk-mode': { type: 'string' },
  'trust-backing': { type: 'string', multiple: true },
  firmware: { type: 'string' },
  bus: { type: 'string' },
} as const;

export async function run(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs(args, OPTIONS, USAGE);
  if (v.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju create takes one VM name\n\n${USAGE}`, USAGE_EXIT);
  const preset = presetFromName(v.preset ?? 'linux');
  if (!preset) throw new CliError(`--preset must be one of ${Object.keys(PRESET_DEFAULTS).join(', ')}; got "${v.preset}"`, USAGE_EXIT);
  if (v.disk && (v['disk-size'] || v['no-disk'])) throw new CliError('--disk cannot be combined with --disk-size or --no-disk', USAGE_EXIT);
  if (v['disk-mode'] && !v.disk) throw new CliError('--disk-mode needs --disk FILE', USAGE_EXIT);
  if (v['trust-backing'] && !v.disk) throw new CliError('--trust-backing needs --disk FILE', USAGE_EXIT);
  const diskMode = oneOf('disk-mode', v['disk-mode'], EXISTING_DISK_MODES) ?? 'copy';
  const showProgress = process.stderr.isTTY && !v.json;
  return withLibrary(async (library) => {
    const vm = await createVm(library, {
      name: positionals[0],
      preset,
      ...hardwareValues(v),
      firmware: oneOf('firmware', v.firmware, FIRMWARES),
      diskBus: oneOf('bus', v.bus, DISK_BUSES),
      diskSize: v['no-disk'] ? null : v['disk-size'],
      existingDisk: v.disk ? { path: v.disk, mode: diskMode, trustedBacking: v['trust-backing'] } : undefined,
      iso: v.iso,
      onProgress: showProgress ? (p) => process.stderr.write(`\rcopying disk: ${p.toFixed(0)}%`) : undefined,
      onNotice: (message) => process.stderr.write(`kju: ${message}\n`),
    });
    if (showProgress && v.disk && diskMode === 'copy') process.stderr.write('\n');
    if (v.json) printJson({ bundle: vm.dir, config: vm.config });
    else console.log(`created VM "${vm.config.name}" in ${vm.dir}`);
    return 0;
  });
}
