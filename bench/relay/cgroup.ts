import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A pod's resource limits as a Linux cgroup: a CPU quota per 100 ms period and a memory limit, the
 * way the kubelet (through the container runtime) applies `resources.limits`. cgroup v2 (`cpu.max`,
 * `memory.max`) when the machine runs the unified hierarchy with those controllers, else cgroup v1
 * (`cpu.cfs_quota_us`, `memory.limit_in_bytes`, and `cpuacct` for CPU time, a separate hierarchy on
 * some machines). Needs root. Everything a process forks after it joined stays inside.
 */

export type CgroupVersion = 'v1' | 'v2';

export interface CgroupLimits {
  /** CPU limit in millicores (200 = 20 ms of CPU per 100 ms period); 0 = no quota. */
  cpuMillicores: number;
  /** 0 = no memory limit. */
  memoryBytes: number;
  /**
   * Relative weight against everything else on the machine (v1 cpu.shares, v2 cpu.weight scaled).
   * High, so that neighbours on a shared machine do not take the CPU the quota allows; the quota
   * still caps it.
   */
  shares?: number;
}

export interface CgroupStats {
  /** CPU time of every process that ever ran in the group (cpuacct.usage / cpu.stat usage_usec), ms. */
  cpuMs: number;
  /** CFS periods with runnable tasks, and how many of them hit the quota. */
  periods: number;
  throttledPeriods: number;
  throttledMs: number;
  /** Charged memory now (page cache included), and its high-water mark since the last resetPeak(). */
  memoryBytes: number;
  peakBytes: number;
  /** Anonymous memory (process heaps and stacks) and page cache, now. */
  anonBytes: number;
  fileBytes: number;
  /** What the kubelet reports and evicts on: usage minus inactive page cache. */
  workingSetBytes: number;
  /** Processes the kernel's OOM killer killed in this group (cumulative). */
  oomKills: number;
  /** Times the charge hit the limit and reclaim had to run (v1 memory.failcnt; v2 memory.events max). */
  limitHits: number;
}

const PERIOD_US = 100_000;

export function cgroupVersion(root = '/sys/fs/cgroup'): CgroupVersion | undefined {
  const controllers = read(join(root, 'cgroup.controllers'));
  if (/\bcpu\b/.test(controllers) && /\bmemory\b/.test(controllers)) return 'v2';
  if (existsSync(join(root, 'cpu', 'cpu.cfs_quota_us')) && existsSync(join(root, 'memory', 'memory.limit_in_bytes'))) return 'v1';
  return undefined;
}

/** Why the pod bench cannot run here, or undefined when it can. */
export function cgroupUnavailable(root = '/sys/fs/cgroup'): string | undefined {
  if (process.getuid?.() !== 0) return 'creating cgroups needs root';
  if (!cgroupVersion(root)) return `neither cgroup v2 with the cpu and memory controllers nor cgroup v1 cpu and memory hierarchies under ${root}`;
  return undefined;
}

export class PodCgroup {
  private readonly dirs: string[];

  private constructor(
    readonly name: string,
    readonly version: CgroupVersion,
    private readonly root: string,
    readonly limits: CgroupLimits,
  ) {
    this.dirs = version === 'v2' ? [join(root, name)] : ['cpu', 'cpuacct', 'memory'].map((h) => join(root, h, name)).filter((_, i) => i !== 1 || this.separateCpuacct());
  }

  static create(name: string, limits: CgroupLimits, root = '/sys/fs/cgroup'): PodCgroup {
    const version = cgroupVersion(root);
    if (!version) throw new Error(cgroupUnavailable(root) ?? 'no usable cgroup hierarchy');
    const group = new PodCgroup(name, version, root, limits);
    for (const d of group.dirs) mkdirSync(d, { recursive: true });
    const quota = limits.cpuMillicores > 0 ? String(Math.round((limits.cpuMillicores / 1000) * PERIOD_US)) : undefined;
    if (version === 'v2') {
      const dir = group.dirs[0]!;
      // The parent must delegate the controllers to its children.
      try {
        writeFileSync(join(root, 'cgroup.subtree_control'), '+cpu +memory');
      } catch {
        // already enabled, or set by the system manager
      }
      writeFileSync(join(dir, 'cpu.max'), `${quota ?? 'max'} ${PERIOD_US}`);
      if (limits.memoryBytes > 0) {
        writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
        tryWrite(join(dir, 'memory.swap.max'), '0');
      }
      if (limits.shares) tryWrite(join(dir, 'cpu.weight'), String(Math.min(10_000, Math.max(1, Math.round((limits.shares * 100) / 1024)))));
    } else {
      const cpu = join(root, 'cpu', name);
      const memory = join(root, 'memory', name);
      writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(cpu, 'cpu.cfs_quota_us'), quota ?? '-1');
      if (limits.shares) writeFileSync(join(cpu, 'cpu.shares'), String(limits.shares));
      if (limits.memoryBytes > 0) {
        writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        // Kubernetes nodes run without swap: the limit is the limit.
        tryWrite(join(memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
        tryWrite(join(memory, 'memory.swappiness'), '0');
      }
    }
    return group;
  }

  /** cgroup v1 machines mount cpu and cpuacct together (cpu,cpuacct) or apart; apart needs its own group. */
  private separateCpuacct(): boolean {
    return existsSync(join(this.root, 'cpuacct', 'cpuacct.usage')) && !existsSync(join(this.root, 'cpu', 'cpuacct.usage'));
  }

  /** The files a process writes its pid to, to join every hierarchy of this group. */
  procsFiles(): string[] {
    return this.dirs.map((d) => join(d, 'cgroup.procs'));
  }

  /** A shell line that moves the running shell ($$) into the group, or exits 97 if it cannot. */
  joinShellLine(): string {
    return `for f in ${this.procsFiles().join(' ')}; do echo $$ > "$f" || exit 97; done`;
  }

  /** Moves a running process (and its threads) into the group. */
  add(pid: number): void {
    for (const f of this.procsFiles()) writeFileSync(f, String(pid));
  }

  /** Moves a process back to the root of every hierarchy (before destroy()). */
  release(pid: number): void {
    const roots = this.version === 'v2' ? [this.root] : ['cpu', 'cpuacct', 'memory'].map((h) => join(this.root, h)).filter((_, i) => i !== 1 || this.separateCpuacct());
    for (const r of roots) tryWrite(join(r, 'cgroup.procs'), String(pid));
  }

  /** Process ids in the group now. */
  pids(): number[] {
    return read(join(this.dirs[0]!, 'cgroup.procs'))
      .split('\n')
      .filter(Boolean)
      .map(Number);
  }

  private file(hierarchy: 'cpu' | 'cpuacct' | 'memory', name: string): string {
    if (this.version === 'v2') return join(this.dirs[0]!, name);
    const dir = hierarchy === 'cpuacct' && !this.separateCpuacct() ? 'cpu' : hierarchy;
    return join(this.root, dir, this.name, name);
  }

  stats(): CgroupStats {
    if (this.version === 'v2') {
      const cpu = keyed(read(this.file('cpu', 'cpu.stat')));
      const mem = keyed(read(this.file('memory', 'memory.stat')));
      const events = keyed(read(this.file('memory', 'memory.events')));
      const current = Number(read(this.file('memory', 'memory.current')).trim()) || 0;
      const peak = Number(read(this.file('memory', 'memory.peak')).trim()) || current;
      return {
        cpuMs: (cpu.usage_usec ?? 0) / 1000,
        periods: cpu.nr_periods ?? 0,
        throttledPeriods: cpu.nr_throttled ?? 0,
        throttledMs: (cpu.throttled_usec ?? 0) / 1000,
        memoryBytes: current,
        peakBytes: Math.max(peak, current),
        anonBytes: mem.anon ?? 0,
        fileBytes: mem.file ?? 0,
        workingSetBytes: Math.max(0, current - (mem.inactive_file ?? 0)),
        oomKills: events.oom_kill ?? 0,
        limitHits: events.max ?? 0,
      };
    }
    const cpu = keyed(read(this.file('cpu', 'cpu.stat')));
    const mem = keyed(read(this.file('memory', 'memory.stat')));
    const oom = keyed(read(this.file('memory', 'memory.oom_control')));
    const usage = Number(read(this.file('memory', 'memory.usage_in_bytes')).trim()) || 0;
    return {
      cpuMs: (Number(read(this.file('cpuacct', 'cpuacct.usage')).trim()) || 0) / 1e6,
      periods: cpu.nr_periods ?? 0,
      throttledPeriods: cpu.nr_throttled ?? 0,
      throttledMs: (cpu.throttled_time ?? 0) / 1e6,
      memoryBytes: usage,
      peakBytes: Number(read(this.file('memory', 'memory.max_usage_in_bytes')).trim()) || usage,
      anonBytes: mem.total_rss ?? mem.rss ?? 0,
      fileBytes: mem.total_cache ?? mem.cache ?? 0,
      workingSetBytes: Math.max(0, usage - (mem.total_inactive_file ?? mem.inactive_file ?? 0)),
      oomKills: oom.oom_kill ?? 0,
      limitHits: Number(read(this.file('memory', 'memory.failcnt')).trim()) || 0,
    };
  }

  /** Starts a new high-water mark (v1 max_usage_in_bytes; v2 memory.peak where writable, kernel 6.12+). */
  resetPeak(): void {
    if (this.version === 'v1') {
      tryWrite(this.file('memory', 'memory.max_usage_in_bytes'), '0');
      tryWrite(this.file('memory', 'memory.failcnt'), '0');
    } else tryWrite(this.file('memory', 'memory.peak'), 'reset');
  }

  /** Removes the group; it must be empty (stop its processes first). Returns false if a process is left. */
  destroy(): boolean {
    let ok = true;
    for (const d of [...this.dirs].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        ok = false;
      }
    }
    return ok;
  }
}

/** `key value` lines (cpu.stat, memory.stat, memory.oom_control, memory.events) as numbers. */
export function keyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && Number.isFinite(Number(v))) out[k] = Number(v);
  }
  return out;
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function tryWrite(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch {
    // optional knob missing on this kernel
  }
}
