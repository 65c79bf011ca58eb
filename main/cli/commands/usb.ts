// kju usb list | attach <vm> <device> | detach <vm> <device>: host USB devices, handed to a running
// VM (usb-host on its qemu-xhci controller). <device> is vendor:product (hex) or bus-port (1-2.3).
import { CliError } from '../cli-error.js';
import { busPort, isUsbSpec, listHostUsb } from '../../qemu/host-usb.js';
import { parseCommandArgs, printJson } from './library-cli.js';
import { onRunningVm } from './vm-cli.js';

const USAGE = `usage: kju usb list [--json]                 host USB devices (bus-port, vendor:product, name)
       kju usb attach <vm> <vendor:product | bus-port>
       kju usb detach <vm> <vendor:product | bus-port>
       kju usb attached <vm>                  the host devices a running VM has`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const [op, vmArg, device, ...extra] = positionals;
  if (op === 'list') {
    if (vmArg) throw new CliError(`kju usb list takes no VM\n\n${USAGE}`, 2);
    const devices = await listHostUsb();
    if (values.json) printJson(devices);
    else if (!devices.length) console.log('no USB devices found on this host');
    else for (const d of devices) console.log(`${busPort(d).padEnd(10)} ${d.vendorId}:${d.productId}  ${[d.manufacturer, d.product].filter(Boolean).join(' ')}`);
    return 0;
  }
  if (op === 'attached') {
    const r = await onRunningVm(vmArg, USAGE, (api) => api.usb({ op: 'list' }));
    if (values.json) printJson(r.attached);
    else for (const a of r.attached) console.log(a);
    return 0;
  }
  if ((op !== 'attach' && op !== 'detach') || extra.length) throw new CliError(USAGE, 2);
  if (!device) throw new CliError(`name the device (vendor:product or bus-port; see kju usb list)\n\n${USAGE}`, 2);
  if (!isUsbSpec(device)) throw new CliError(`'${device}' is not a USB device: give vendor:product (4 hex digits each, e.g. 0781:5581) or bus-port (e.g. 1-2.3); see kju usb list`, 2);
  const r = await onRunningVm(vmArg, USAGE, (api) => api.usb({ op, device }));
  if (values.json) printJson(r);
  else console.log(op === 'attach' ? `attached ${device}` : r.removed === false ? `${device} was not attached (nothing changed)` : `detached ${device}`);
  return 0;
}
