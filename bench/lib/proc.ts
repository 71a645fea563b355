// What the kernel knows about a process and its sockets, read from /proc (Linux only).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** USER_HZ, the unit of utime/stime in /proc/<pid>/stat. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const reported = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    clockTicks = Number.isFinite(reported) && reported > 0 ? reported : 100;
  }
  return clockTicks;
}

/** CPU seconds (user + system) the process has used so far: proc(5) fields 14 and 15 of /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: count fields from after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

/** CPU seconds of the process and all its descendants (Kamailio works in child processes); proc(5) children. */
export function treeCpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // Gone, or a kernel without the children file: the process alone.
  }
  const own = (): number => {
    try {
      return cpuSeconds(pid);
    } catch {
      return 0; // it exited meanwhile
    }
  };
  return own() + children.reduce((sum, child) => sum + treeCpuSeconds(child), 0);
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Datagrams the kernel dropped on the IPv4 UDP sockets bound to these local ports (last column of /proc/net/udp). */
export function udpDrops(ports: readonly number[]): number {
  const wanted = new Set(ports);
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const columns = line.trim().split(/\s+/);
    if (columns.length < 13) continue;
    const port = parseInt(columns[1]!.split(':')[1]!, 16);
    if (wanted.has(port)) drops += Number(columns[columns.length - 1]);
  }
  return drops;
}
