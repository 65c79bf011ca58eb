// `kju -c URI <command>`: the subcommands that work on a libvirt connection (list, start, stop),
// on its domains instead of the library. Runs on the CLI's Node loop.
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { parseCommandArgs, positiveInt, printJson } from '../commands/library-cli.js';
import { parseConnectionUri, type LibvirtUri } from '../../libvirt/connection-uri.js';
import { LibvirtDomains } from '../../libvirt/libvirt-domains.js';

const COMMANDS = ['list', 'start', 'stop'];
const POLL_MS = 200;

const USAGE = `usage: kju -c URI <command> [args]   (also --connect URI, or KJU_CONNECT=URI)

On a libvirt connection (qemu:///system, qemu:///session, qemu+ssh://[user@]host[:port]/system):
  list [--json]                             its domains with their state
  start <domain>                            boot a defined domain
  stop <domain> [--force] [--timeout S]     ACPI power button and wait (default 30 s), or --force to pull the plug`;

async function withDomains<T>(target: LibvirtUri, fn: (d: LibvirtDomains) => Promise<T>): Promise<T> {
  const domains = await LibvirtDomains.open(target);
  try {
    return await fn(domains);
  } finally {
    domains.close();
  }
}

async function list(target: LibvirtUri, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  if (positionals.length) throw new CliError(`kju list: unexpected argument "${positionals[0]}"\n\n${USAGE}`, EXIT_USAGE);
  const domains = await withDomains(target, (d) => d.list());
  if (values.json) return (printJson(domains), 0);
  if (!domains.length) return (console.log(`no domains on ${target.uri}`), 0);
  const width = Math.max(4, ...domains.map((d) => d.name.length));
  console.log(`${'NAME'.padEnd(width)}  STATE`);
  for (const d of domains) console.log(`${d.name.padEnd(width)}  ${d.state}${d.persistent ? '' : '  (transient)'}`);
  return 0;
}

function oneDomain(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new CliError(`kju ${command} takes one domain name\n\n${USAGE}`, EXIT_USAGE);
  return positionals[0]!;
}

async function start(target: LibvirtUri, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {}, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const name = oneDomain('start', positionals);
  await withDomains(target, (d) => d.start(name));
  console.log(`started ${name}`);
  return 0;
}

async function stop(target: LibvirtUri, args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { force: { type: 'boolean' }, timeout: { type: 'string' } }, USAGE);
  if (values.help) return (console.log(USAGE), 0);
  const name = oneDomain('stop', positionals);
  const timeoutMs = (positiveInt('timeout', values.timeout) ?? 30) * 1000;
  await withDomains(target, async (d) => {
    if (values.force) return d.destroy(name);
    await d.shutdown(name);
    // virDomainShutdown returns once the guest was asked; wait for it to power off
    for (const end = Date.now() + timeoutMs; (await d.state(name)) !== 'stopped';) {
      if (Date.now() > end) {
        throw new CliError(
          `domain "${name}" did not power off within ${timeoutMs / 1000} s (the guest may ignore the ACPI power button); it is still running: run "kju -c ${target.uri} stop ${name} --force" to pull the plug`,
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  });
  console.log('stopped');
  return 0;
}

/** Runs `command` on the connection `uri` (checked first: a URI kju cannot use fails with its fix);
 *  a command that does not work on connections is a usage error. */
export async function runOnConnection(uri: string, command: string | undefined, args: string[]): Promise<number> {
  const target = parseConnectionUri(uri);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? console.error : console.log)(USAGE);
    return command === undefined ? EXIT_USAGE : 0;
  }
  if (!COMMANDS.includes(command)) throw new CliError(`kju ${command} does not work on a connection yet; on ${uri} kju can ${COMMANDS.join(', ')}\n\n${USAGE}`, EXIT_USAGE);
  return command === 'list' ? list(target, args) : command === 'start' ? start(target, args) : stop(target, args);
}
