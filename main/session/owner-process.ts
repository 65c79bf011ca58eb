// Which process serves a VM's kju.sock, and whether it is stopped (SIGSTOP, Ctrl-Z): a stopped
// owner accepts connections (the kernel queues them) but never answers, which would otherwise look
// like a hung QEMU. Linux only (/proc); elsewhere nothing is found. Sync reads, caller's loop.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { RuntimeDir } from '../qemu/runtime-dir.js';

/** The inode of the listening unix socket bound at `path` (/proc/net/unix), or undefined. */
function listeningSocketInode(path: string): string | undefined {
  try {
    // "Num RefCount Protocol Flags Type St Inode Path"; Flags 00010000 is a listening socket
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 8 && f.slice(7).join(' ') === path && (Number.parseInt(f[3], 16) & 0x10000) !== 0) return f[6];
    }
  } catch {
    // no /proc
  }
  return undefined;
}

/** The pid of a process that holds the listening unix socket at `path`, or undefined. */
export function socketListenerPid(path: string): number | undefined {
  const inode = listeningSocketInode(path);
  if (!inode) return undefined;
  const target = `socket:[${inode}]`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${name}/fd`);
    } catch {
      continue; // gone, or not ours
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${name}/fd/${fd}`) === target) return Number(name);
      } catch {
        // closed meanwhile
      }
    }
  }
  return undefined;
}

/** Whether `pid` is stopped by a signal (state T in /proc/<pid>/stat). */
export function isStoppedProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) === 'T';
  } catch {
    return false;
  }
}

/** The message for a VM whose owning kju process is stopped; undefined when it is not (or none is found). */
export function stoppedOwnerProblem(rt: RuntimeDir, name: string): string | undefined {
  const pid = socketListenerPid(rt.ownerSocket);
  if (pid === undefined || !isStoppedProcess(pid)) return undefined;
  return `the kju process owning VM "${name}" (pid ${pid}) is stopped (SIGSTOP): continue it with kill -CONT ${pid}`;
}
