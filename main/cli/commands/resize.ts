// kju resize <vm> <W>x<H> [--head N]: asks the guest to take a size (what a resized window does),
// and says what it took. Only a guest that sets modes on hotplug follows (virtio-vga).
import { parseCommandArgs, printJson } from './library-cli.js';
import { onRunningVm } from './vm-cli.js';
import { CliError } from '../cli-error.js';
import { parseSize } from '../../display/ui-info.js';
import { parseHead } from './screenshot.js';

const USAGE = 'usage: kju resize <vm> <W>x<H> [--head N] [--json]';

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' }, head: { type: 'string' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [vmArg, sizeArg, ...extra] = positionals;
  if (!sizeArg || extra.length) throw new CliError(`${!sizeArg ? 'give the size as WIDTHxHEIGHT, e.g. 1280x800' : `unexpected argument '${extra[0]}'`}\n\n${USAGE}`, 2);
  const size = parseSize(sizeArg);
  if (!size || size.width < 1 || size.height < 1) throw new CliError(`'${sizeArg}' is not a size: give WIDTHxHEIGHT in pixels, e.g. 1280x800`, 2);
  const head = parseHead(values.head as string | undefined);
  const r = await onRunningVm(vmArg, USAGE, (ops) => ops.resize({ ...size, head }));
  if (values.json) {
    printJson(r);
    return 0;
  }
  if (r.clamped) console.error(`kju: ${r.clamped}`);
  const { width, height } = r.requested;
  if (r.surface && r.surface.width === width && r.surface.height === height) console.log(`head ${r.head}: ${width}x${height}`);
  else {
    const now = r.surface ? `${r.surface.width}x${r.surface.height}` : 'no surface';
    console.log(`head ${r.head}: asked for ${width}x${height}; the guest is at ${now} (it follows only if something in it sets modes on hotplug, and only on virtio-vga)`);
  }
  return 0;
}
