import { readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { capture } from './proc';

/** What the numbers were measured on, and how busy the machine was meanwhile. */

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  os: string;
  kernel: string;
  node: string;
  postfix: string;
  commit: string;
  dirty: boolean;
}

export async function describeMachine(cwd: string): Promise<Machine> {
  const osRelease = safeRead('/etc/os-release');
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'unknown';
  const postconf = await capture('/usr/sbin/postconf', ['-d', 'mail_version']);
  const commit = await capture('git', ['rev-parse', '--short', 'HEAD'], { cwd });
  const status = await capture('git', ['status', '--porcelain'], { cwd });
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: pretty,
    kernel: release(),
    node: process.version,
    postfix: postconf.replace(/^mail_version\s*=\s*/, '') || 'not installed',
    commit: commit || 'unknown',
    dirty: status.length > 0,
  };
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Samples the 1-minute load average and the machine-wide CPU use while the bench runs, because the
 * machine is shared: absolute numbers move with the neighbours, ratios from one interleaved run less so.
 */
export class LoadMonitor {
  private readonly samples: { at: number; load1: number; busy: number }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private last = readCpu();

  start(intervalMs = 2000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop(): LoadSummary {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.summary();
  }

  summary(): LoadSummary {
    const loads = this.samples.map((s) => s.load1);
    const busy = this.samples.slice(1).map((s) => s.busy);
    return {
      load1Min: Math.min(...loads),
      load1Max: Math.max(...loads),
      busyPercentMean: busy.length ? busy.reduce((a, b) => a + b, 0) / busy.length : NaN,
      processesAtStart: this.processesAtStart,
      otherPostfixMastersAtStart: this.mastersAtStart,
    };
  }

  private readonly atStart = countProcesses();
  private readonly processesAtStart = this.atStart.all;
  private readonly mastersAtStart = this.atStart.postfixMasters;

  private sample(): void {
    const now = readCpu();
    const total = now.total - this.last.total;
    const busy = total > 0 ? (100 * (now.busy - this.last.busy)) / total : 0;
    this.last = now;
    this.samples.push({ at: Date.now(), load1: loadavg()[0] ?? 0, busy });
  }
}

export interface LoadSummary {
  load1Min: number;
  load1Max: number;
  /** Mean share of all CPUs that was busy (everyone's processes, the bench included). */
  busyPercentMean: number;
  processesAtStart: number;
  /** Postfix master processes that other people were running when the bench started. */
  otherPostfixMastersAtStart: number;
}

function readCpu(): { busy: number; total: number } {
  const line = safeRead('/proc/stat').split('\n')[0] ?? '';
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

function countProcesses(): { all: number; postfixMasters: number } {
  let all = 0;
  let postfixMasters = 0;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      all++;
      const exe = safeRead(`/proc/${entry}/cmdline`).split('\0')[0] ?? '';
      if (exe.endsWith('/postfix/sbin/master') || exe === '/usr/lib/postfix/sbin/master') postfixMasters++;
    }
  } catch {
    // /proc is missing outside Linux: the counts stay at zero.
  }
  return { all, postfixMasters };
}
