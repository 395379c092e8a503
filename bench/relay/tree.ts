import { readdirSync, readFileSync } from 'node:fs';

/**
 * Memory and CPU of a process tree (the container's entrypoint, the Postfix master and every
 * daemon it forked), read from /proc.
 *
 * Peak memory of a Postfix process tree (the master and every daemon it forked), sampled from
 * /proc. RSS summed over processes counts shared pages (libraries, the master's copy-on-write
 * pages) once per process and so overstates what the cgroup charges; PSS splits shared pages
 * between their users and is the better estimate of what the container's memory limit sees.
 */

export interface TreeMemory {
  rssMiB: number;
  pssMiB: number;
  processes: number;
  /** PSS and process count per command name (smtpd, cleanup, tlsproxy, ...), at the sample with the highest PSS. */
  byCommand?: Record<string, { processes: number; pssMiB: number }>;
}

export class TreeMemorySampler {
  private timer: NodeJS.Timeout | undefined;
  peak: TreeMemory = { rssMiB: 0, pssMiB: 0, processes: 0 };

  constructor(private readonly rootPid: number) {}

  start(intervalMs = 250): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): TreeMemory {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.peak;
  }

  /** Restart the peak (between load levels). */
  reset(): void {
    this.peak = { rssMiB: 0, pssMiB: 0, processes: 0 };
  }

  sample(): TreeMemory {
    const now = treeMemory(this.rootPid);
    const higher = now.pssMiB > this.peak.pssMiB;
    this.peak = {
      rssMiB: Math.max(this.peak.rssMiB, now.rssMiB),
      pssMiB: Math.max(this.peak.pssMiB, now.pssMiB),
      processes: Math.max(this.peak.processes, now.processes),
      ...(higher ? { byCommand: now.byCommand } : this.peak.byCommand ? { byCommand: this.peak.byCommand } : {}),
    };
    return now;
  }
}

/** The root and every live descendant. */
export function tree(rootPid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop() as number;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** /proc/<pid>/stat fields after the command name (which may hold spaces and parentheses): [state, ppid, ...]. */
function statFields(pid: number): string[] {
  const stat = read(`/proc/${pid}/stat`);
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : [];
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/**
 * CPU time used by a tree so far, in ms: user + system time of the live processes plus the time
 * of the children they have already reaped (cutime/cstime), so daemons that exited still count.
 */
export function treeCpuMs(rootPid: number): number {
  let ticks = 0;
  for (const pid of tree(rootPid)) {
    const f = statFields(pid);
    // utime, stime, cutime, cstime are fields 14-17 of stat, i.e. 11-14 after the command name.
    for (const i of [11, 12, 13, 14]) ticks += Number(f[i] ?? 0) || 0;
  }
  return ticks * TICK_MS;
}

/** CPU time (ms) of each live process of the tree, with its command name. */
export function treeCpuByPid(rootPid: number): Map<number, { command: string; ms: number }> {
  const out = new Map<number, { command: string; ms: number }>();
  for (const pid of tree(rootPid)) {
    const f = statFields(pid);
    if (!f.length) continue;
    out.set(pid, { command: command(pid), ms: (Number(f[11]) + Number(f[12])) * TICK_MS });
  }
  return out;
}

/**
 * CPU used between two treeCpuByPid snapshots, per command name; what daemons that exited in
 * between used shows up as "(exited daemons)" (from the tree total).
 */
export function cpuByCommand(before: Map<number, { command: string; ms: number }>, after: Map<number, { command: string; ms: number }>, totalMs: number): Record<string, number> {
  const out: Record<string, number> = {};
  let attributed = 0;
  for (const [pid, a] of after) {
    const ms = a.ms - (before.get(pid)?.ms ?? 0);
    if (ms <= 0) continue;
    out[a.command] = (out[a.command] ?? 0) + ms;
    attributed += ms;
  }
  if (totalMs - attributed > 0) out['(exited daemons)'] = totalMs - attributed;
  return out;
}

function command(pid: number): string {
  return read(`/proc/${pid}/comm`).trim() || '?';
}

export function treeMemory(rootPid: number): TreeMemory {
  let rssKiB = 0;
  let pssKiB = 0;
  let processes = 0;
  const byCommand: Record<string, { processes: number; pssMiB: number }> = {};
  for (const pid of tree(rootPid)) {
    const rollup = read(`/proc/${pid}/smaps_rollup`);
    const status = rollup ? '' : read(`/proc/${pid}/status`);
    const rss = field(rollup, 'Rss') ?? field(status, 'VmRSS');
    if (rss === undefined) continue;
    const pss = field(rollup, 'Pss') ?? rss;
    processes++;
    rssKiB += rss;
    pssKiB += pss;
    const c = (byCommand[command(pid)] ??= { processes: 0, pssMiB: 0 });
    c.processes++;
    c.pssMiB += pss / 1024;
  }
  return { rssMiB: rssKiB / 1024, pssMiB: pssKiB / 1024, processes, byCommand };
}

function field(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
