// `kju` CLI entry: parses the subcommand and hands the rest to its module.
// Each subcommand lives in main/cli/commands/<name>.ts and exports `run(args): Promise<number>`.
// `-c URI` (or KJU_CONNECT) before the subcommand runs it on a libvirt connection (cli/connection/).
import { cliFailure } from './cli-error.js';
import { parseGlobalOptions } from './connection/global-options.js';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  // one line per subcommand; keep alphabetical
  clipboard: { summary: "get or set a running VM's shared clipboard text (kju clipboard get|set <vm>)", load: () => import('./commands/clipboard.js') },
  clone: { summary: 'copy a VM (full, or --linked over a shared base)', load: () => import('./commands/clone.js') },
  console: { summary: "attach the terminal to a running VM's serial port (Ctrl+] detaches)", load: () => import('./commands/console.js') },
  create: { summary: 'make a new VM from a preset', load: () => import('./commands/create.js') },
  delete: { summary: 'move a VM to the library trash (or --permanent)', load: () => import('./commands/delete.js') },
  doctor: { summary: 'check what kju needs here (QEMU, accelerator, firmware...), with fixes', load: () => import('./commands/doctor.js') },
  edit: { summary: "change a VM's memory, CPUs, ISO, display...", load: () => import('./commands/edit.js') },
  forward: { summary: "add|remove|list a running VM's port forwards (tcp:HOSTPORT:GUESTPORT)", load: () => import('./commands/forward.js') },
  key: { summary: 'press key combinations in a VM (ctrl-alt-delete, ctrl-alt-f2...)', load: () => import('./commands/key.js') },
  list: { summary: 'list the VMs in the library', load: () => import('./commands/list.js') },
  os: { summary: 'the OS catalogue (osinfo-db): kju os list [TEXT]', load: () => import('./commands/os.js') },
  pause: { summary: 'freeze a running VM (kju resume continues it)', load: () => import('./commands/pause.js') },
  reset: { summary: "press a running VM's reset button", load: () => import('./commands/reset.js') },
  resize: { summary: 'ask a running VM to take a screen size (kju resize <vm> 1280x800)', load: () => import('./commands/resize.js') },
  resume: { summary: 'continue a paused VM, or restore one suspended to disk', load: () => import('./commands/resume.js') },
  run: { summary: 'start a VM (library name or vm.json) and own it until it stops', load: () => import('./commands/run.js') },
  screenshot: { summary: "save a PNG of a running VM's screen", load: () => import('./commands/screenshot.js') },
  serve: { summary: 'show the UI in a browser (kju serve --host/--port/--allow/--token-file)', load: () => import('./commands/serve.js') },
  snapshot: { summary: 'create|list|revert|delete snapshots of a VM (qcow2 disks)', load: () => import('./commands/snapshot.js') },
  start: { summary: 'start a library VM in the background (resumes a suspended one)', load: () => import('./commands/start.js') },
  stop: { summary: 'stop a running VM (ACPI power button, or --force)', load: () => import('./commands/stop.js') },
  suspend: { summary: "save a running VM's state to its bundle and stop it", load: () => import('./commands/suspend.js') },
  usb: { summary: 'list host USB devices; attach|detach one to a running VM', load: () => import('./commands/usb.js') },
  type: { summary: 'type text into a running VM (paced, US layout)', load: () => import('./commands/type.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`);
  return `usage: kju [-c URI] <command> [args]\n\ncommands:\n${lines.join('\n')}\n\nkju <command> --help shows a command's options.\nkju -c URI (--connect URI, KJU_CONNECT) works on a libvirt connection, like qemu:///system: kju -c URI --help.`;
}

async function main(argv: string[]): Promise<number> {
  const global = parseGlobalOptions(argv);
  const [name, ...rest] = global.rest;
  if (global.connect !== undefined) {
    const { runOnConnection } = await import('./connection/connection-commands.js');
    return runOnConnection(global.connect, name, rest);
  }
  if (!name) {
    console.error(usage());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`kju: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const mod = await command.load();
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const { text, exitCode } = cliFailure(err);
    console.error(text);
    process.exit(exitCode);
  },
);
