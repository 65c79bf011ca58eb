// Port forwards of a running VM's user network, changed live. QEMU 10 has no QMP command for
// hostfwd, so this goes through HMP (human-monitor-command), whose failures come back as text.
// Runs on the Node loop of whoever holds QMP.
import {
  checkPortsFree,
  formatPortForward,
  forwardMatches,
  GuestLinkError,
  hostfwdRemoveRule,
  hostfwdRule,
  parseUsernetForwards,
  samePortForward,
  type ForwardKey,
  type PortForward,
} from '../qemu/guest-links.js';
import type { QmpExecutor } from '../qmp/qmp-types.js';

export async function listForwards(qmp: QmpExecutor): Promise<PortForward[]> {
  return parseUsernetForwards(await qmp.execute('human-monitor-command', { 'command-line': 'info usernet' }));
}

/** Adds `f`; a host port in use is a GuestLinkError 'port-in-use' naming it, and the VM is untouched. */
export async function addForward(qmp: QmpExecutor, f: PortForward): Promise<PortForward[]> {
  const before = await listForwards(qmp);
  if (!before.length && !(await hasUserNet(qmp))) throw new GuestLinkError('invalid-argument', 'this VM has no user network (its NIC is "none"); give it one with kju edit --nic virtio-net');
  if (before.some((g) => samePortForward(g, f))) throw new GuestLinkError('port-in-use', `host ${f.proto} port ${f.hostPort} on ${f.hostAddr} is already forwarded in this VM`);
  await checkPortsFree([f]);
  const reply = await qmp.execute('human-monitor-command', { 'command-line': `hostfwd_add ${hostfwdRule(f)}` });
  if (reply.trim()) throw new GuestLinkError('port-in-use', `QEMU could not add the forward ${formatPortForward(f)}: ${reply.trim()}`);
  return listForwards(qmp);
}

/**
 * Removes the forward on `key`'s protocol and host port (and address, when it has one); none, or
 * several on different addresses without one given, is an error naming them.
 */
export async function removeForward(qmp: QmpExecutor, key: ForwardKey): Promise<PortForward[]> {
  const where = `host ${key.proto} port ${key.hostPort}${key.hostAddr === undefined ? '' : ` on ${key.hostAddr}`}`;
  const found = (await listForwards(qmp)).filter((g) => forwardMatches(g, key));
  if (!found.length) throw new GuestLinkError('invalid-argument', `no forward of ${where} in this VM`);
  if (found.length > 1) {
    throw new GuestLinkError(
      'invalid-argument',
      `${found.length} forwards of ${where} (${found.map(formatPortForward).join(', ')}): give the address too, e.g. ${key.proto}:${found[0].hostAddr}:${key.hostPort}`,
    );
  }
  const f = found[0];
  const reply = await qmp.execute('human-monitor-command', { 'command-line': `hostfwd_remove ${hostfwdRemoveRule(f)}` });
  if (!/removed/.test(reply))
    throw new GuestLinkError('invalid-argument', `no forward of host ${f.proto} port ${f.hostPort} on ${f.hostAddr} in this VM${reply.trim() ? ` (QEMU: ${reply.trim()})` : ''}`);
  return listForwards(qmp);
}

async function hasUserNet(qmp: QmpExecutor): Promise<boolean> {
  return /\(.*\):/.test(await qmp.execute('human-monitor-command', { 'command-line': 'info usernet' }));
}
