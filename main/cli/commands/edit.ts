// `kju edit`: changes a VM's hardware; validated, written atomically (config.json.bak keeps the old).
import { CliError } from '../cli-error.js';
import { VM_DISPLAY_DEVICES, VM_SOUND_DEVICES } from '../../../common/contract.js';
import { MACHINES, NICS } from '../../library/bundle-config.js';
import type { VmChanges } from '../../library/library.js';
import { GUEST_LINK_USAGE, HARDWARE_OPTIONS, hardwareValues, parseCommandArgs, printJson, USAGE_EXIT, withLibrary } from './library-cli.js';

const USAGE = `usage: kju edit <vm> [options]

  --memory M      MiB, or 512M / 2G
  --cpus N
  --iso FILE      insert a CD-ROM image;  --eject  removes it
  --display D     ${VM_DISPLAY_DEVICES.join(', ')}
  --displays N    heads (monitors) of the display device, 1-4; more than 1 needs virtio-vga
  --nic N         ${NICS.join(', ')}
  --machine M     ${MACHINES.join(', ')}
  --tablet / --no-tablet
  --clipboard / --no-clipboard   share the clipboard (takes effect at the next start)
  --tpm / --no-tpm          a TPM 2.0 (swtpm; its state lives in the bundle)
  --secure-boot / --no-secure-boot   UEFI Secure Boot with Microsoft's keys (implies UEFI, q35 with SMM)
  --sound S       ${VM_SOUND_DEVICES.join(', ')} (takes effect at the next start)
  --microphone    (refused: sound in is not in kju yet)
  --kernel FILE --initrd FILE --append "ARGS"
  --notes TEXT
${GUEST_LINK_USAGE}
  --accept-outside PATH   confirm a file outside the bundle that the VM's config names (a bundle
                  copied in from elsewhere is blocked until you do; repeatable)
  --trust-backing FILE    confirm a backing, data or extent file outside the bundle that one of
                  its disks reads (shown by "kju list"; repeatable)
  --json          print the resulting config as JSON`;

const OPTIONS = { ...HARDWARE_OPTIONS, eject: { type: 'boolean' }, 'accept-outside': { type: 'string', multiple: true }, 'trust-backing': { type: 'string', multiple: true } } as const;

export async function run(args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs(args, OPTIONS, USAGE);
  if (v.help) return (console.log(USAGE), 0);
  if (positionals.length !== 1) throw new CliError(`kju edit takes one VM\n\n${USAGE}`, USAGE_EXIT);
  if (v.iso && v.eject) throw new CliError('--iso and --eject contradict each other', USAGE_EXIT);
  const changes: VmChanges = { ...hardwareValues(v), cdrom: v.eject ? null : v.iso };
  const acceptOutside = [...(v['accept-outside'] ?? []), ...(v['trust-backing'] ?? [])];
  if (Object.values(changes).every((x) => x === undefined) && !acceptOutside.length) throw new CliError(`nothing to change\n\n${USAGE}`, USAGE_EXIT);
  return withLibrary(async (library) => {
    const vm = await library.edit(positionals[0], changes, { acceptOutside });
    if (v.json) printJson({ bundle: vm.dir, config: vm.config });
    else console.log(`updated VM "${vm.config.name}"`);
    return 0;
  });
}
