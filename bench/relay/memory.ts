import { readdirSync, readFileSync } from 'node:fs';

/**
 * Peak memory of a Postfix process tree (the master and every daemon it forked), sampled from
 * /proc. RSS summed over processes counts shared pages (libraries, the master's copy-on-write
 * pages) once per process and so overstates what the cgroup charges; PSS splits shared pages
 * between their users and is the better estimate of what the container's memory limit sees.
 */

export interface TreeMemory {
  rssMiB: number;
  pssMiB: number;
  processes: number;
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
    this.peak = {
      rssMiB: Math.max(this.peak.rssMiB, now.rssMiB),
      pssMiB: Math.max(this.peak.pssMiB, now.pssMiB),
      processes: Math.max(this.peak.processes, now.processes),
    };
    return now;
  }
}

export function treeMemory(rootPid: number): TreeMemory {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!Number.isFinite(ppid)) continue;
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  let rssKiB = 0;
  let pssKiB = 0;
  let processes = 0;
  const stack = [rootPid];
  while (stack.length) {
    const pid = stack.pop() as number;
    const rollup = read(`/proc/${pid}/smaps_rollup`);
    const status = rollup ? '' : read(`/proc/${pid}/status`);
    const rss = field(rollup, 'Rss') ?? field(status, 'VmRSS');
    if (rss === undefined) continue;
    processes++;
    rssKiB += rss;
    pssKiB += field(rollup, 'Pss') ?? rss;
    stack.push(...(children.get(pid) ?? []));
  }
  return { rssMiB: rssKiB / 1024, pssMiB: pssKiB / 1024, processes };
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
