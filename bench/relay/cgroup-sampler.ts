import { readFileSync } from 'node:fs';
import type { CgroupStats, PodCgroup } from './cgroup';

/**
 * Watches a pod cgroup during one load level: which processes ran and how much CPU each used
 * (/proc/<pid>/stat of every process in the group, every `cpuIntervalMs`), the group's memory
 * (anonymous, working set) and the processes' PSS (every `pssIntervalMs`: smaps_rollup costs more).
 * CPU of a daemon that started and exited between two samples is not in its command's share: it
 * shows as "(exited between samples)", the group's own CPU counter minus what was attributed.
 */

export interface CommandCpu {
  /** CPU time in the window, ms. */
  ms: number;
  /** Processes of this command that started in the window. */
  started: number;
}

export interface PodWindow {
  wallMs: number;
  /** The group's counters at the end minus at the start (peakBytes: the high-water mark of the window). */
  cgroup: CgroupStats;
  byCommand: Record<string, CommandCpu>;
  /** Highest sampled values. */
  peak: { anonBytes: number; workingSetBytes: number; pssMiB: number; processes: number; pssByCommand: Record<string, { processes: number; pssMiB: number }> };
}

const TICK_MS = 10; // USER_HZ = 100

/**
 * CPU time of one process in ms: /proc/<pid>/schedstat's run time (nanoseconds, exact) where the
 * kernel has it, else utime + stime from stat, which come in 10 ms ticks: a daemon that used 5 ms
 * shows 0 there, and 30 such daemons hide 150 ms.
 */
function processCpuMs(pid: number, statFields: string[]): number {
  const ns = Number(read(`/proc/${pid}/schedstat`).split(' ')[0]);
  return Number.isFinite(ns) && ns > 0 ? ns / 1e6 : (Number(statFields[11]) + Number(statFields[12])) * TICK_MS;
}

export class CgroupSampler {
  private timer: NodeJS.Timeout | undefined;
  private startStats!: CgroupStats;
  private startedAt = 0;
  private baseline = new Map<number, { command: string; ms: number }>();
  private last = new Map<number, { command: string; ms: number }>();
  private fresh = new Set<number>();
  private lastPss = 0;
  private peak: PodWindow['peak'] = emptyPeak();

  constructor(
    private readonly group: PodCgroup,
    private readonly cpuIntervalMs = 250,
    private readonly pssIntervalMs = 1000,
  ) {}

  start(): void {
    this.stop();
    this.group.resetPeak();
    this.startStats = this.group.stats();
    this.startedAt = Date.now();
    this.baseline = this.snapshot();
    this.last = new Map(this.baseline);
    this.fresh = new Set();
    this.peak = emptyPeak();
    this.lastPss = 0;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.cpuIntervalMs);
    this.timer.unref();
  }

  /** Ends the window and returns what it saw. */
  finish(): PodWindow {
    this.sample();
    this.stop();
    const end = this.group.stats();
    const byCommand: Record<string, CommandCpu> = {};
    let attributed = 0;
    for (const [pid, now] of this.last) {
      const ms = now.ms - (this.baseline.get(pid)?.ms ?? 0);
      const c = (byCommand[now.command] ??= { ms: 0, started: 0 });
      if (this.fresh.has(pid)) c.started++;
      if (ms > 0) {
        c.ms += ms;
        attributed += ms;
      }
    }
    const cgroup = diff(this.startStats, end);
    const rest = cgroup.cpuMs - attributed;
    if (rest > 0) byCommand['(exited between samples)'] = { ms: rest, started: 0 };
    return { wallMs: Date.now() - this.startedAt, cgroup, byCommand, peak: this.peak };
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private snapshot(): Map<number, { command: string; ms: number }> {
    const out = new Map<number, { command: string; ms: number }>();
    for (const pid of this.group.pids()) {
      const stat = read(`/proc/${pid}/stat`);
      if (!stat) continue;
      const open = stat.indexOf('(');
      const close = stat.lastIndexOf(')');
      const f = stat.slice(close + 2).split(' ');
      out.set(pid, { command: stat.slice(open + 1, close), ms: processCpuMs(pid, f) });
    }
    return out;
  }

  private sample(): void {
    const now = this.snapshot();
    for (const [pid, v] of now) {
      const before = this.last.get(pid);
      // A recycled pid (another command) is a new process.
      if (!before || before.command !== v.command) {
        if (!this.baseline.has(pid) || this.baseline.get(pid)!.command !== v.command) {
          this.fresh.add(pid);
          this.baseline.delete(pid);
        }
      }
      this.last.set(pid, v);
    }
    const s = this.group.stats();
    this.peak.anonBytes = Math.max(this.peak.anonBytes, s.anonBytes);
    this.peak.workingSetBytes = Math.max(this.peak.workingSetBytes, s.workingSetBytes);
    this.peak.processes = Math.max(this.peak.processes, now.size);
    if (Date.now() - this.lastPss >= this.pssIntervalMs) {
      this.lastPss = Date.now();
      let total = 0;
      const by: Record<string, { processes: number; pssMiB: number }> = {};
      for (const [pid, v] of now) {
        const kib = Number(/^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`))?.[1] ?? NaN);
        if (!Number.isFinite(kib)) continue;
        total += kib / 1024;
        const c = (by[v.command] ??= { processes: 0, pssMiB: 0 });
        c.processes++;
        c.pssMiB += kib / 1024;
      }
      if (total > this.peak.pssMiB) {
        this.peak.pssMiB = total;
        this.peak.pssByCommand = by;
      }
    }
  }
}

function emptyPeak(): PodWindow['peak'] {
  return { anonBytes: 0, workingSetBytes: 0, pssMiB: 0, processes: 0, pssByCommand: {} };
}

/** Counters as differences; gauges (memory) as the end value, peakBytes as the window's high-water mark. */
function diff(a: CgroupStats, b: CgroupStats): CgroupStats {
  return {
    cpuMs: b.cpuMs - a.cpuMs,
    periods: b.periods - a.periods,
    throttledPeriods: b.throttledPeriods - a.throttledPeriods,
    throttledMs: b.throttledMs - a.throttledMs,
    memoryBytes: b.memoryBytes,
    peakBytes: b.peakBytes,
    anonBytes: b.anonBytes,
    fileBytes: b.fileBytes,
    workingSetBytes: b.workingSetBytes,
    oomKills: b.oomKills - a.oomKills,
    limitHits: b.limitHits - a.limitHits,
  };
}

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
