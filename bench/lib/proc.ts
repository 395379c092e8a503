import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs commands for the benchmarks: wall time from spawn to exit, and peak RSS where available. */

const TIME = '/usr/bin/time';

export interface RunResult {
  ms: number;
  /** Largest max-RSS of the command and the children it waited for (GNU time %M), in KiB. */
  maxRssKiB: number | undefined;
  /** User + system CPU time of the command and its children (GNU time %U + %S), in ms. */
  cpuMs: number | undefined;
  stdout: string;
  stderr: string;
}

/** A command that exited non-zero; keeps its whole output for whoever wants to read it. */
export class RunError extends Error {
  constructor(
    message: string,
    readonly ms: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * Runs `command args` to completion and times it. Every command goes through GNU time when it is
 * installed, so all compared commands pay the same wrapper cost. Throws on a non-zero exit with the
 * command's output, so a broken synth never shows up as a fast one.
 */
export async function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-time-'));
  const timeFile = join(scratch, 'rss');
  const wrapped = existsSync(TIME);
  const [file, argv] = wrapped ? [TIME, ['-f', '%M %U %S', '-o', timeFile, command, ...args]] : [command, [...args]];
  try {
    const started = process.hrtime.bigint();
    const { code, signal, stdout, stderr } = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        // Its own process group, so a timeout kills the command and everything it started.
        const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        const group = child.pid;
        if (group) groups.add(group);
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (d: Buffer) => out.push(d));
        child.stderr.on('data', (d: Buffer) => err.push(d));
        const timer = options.timeoutMs ? setTimeout(() => killGroup(group), options.timeoutMs) : undefined;
        child.on('error', reject);
        child.on('close', (c, s) => {
          if (timer) clearTimeout(timer);
          if (group) groups.delete(group);
          resolve({ code: c, signal: s, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
        });
      },
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (code !== 0) {
      const tail = (stderr || stdout).trim().split('\n').slice(-15).join('\n');
      throw new RunError(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}) after ${ms.toFixed(0)} ms:\n${tail}`, ms, stdout, stderr);
    }
    let maxRssKiB: number | undefined;
    let cpuMs: number | undefined;
    if (wrapped && existsSync(timeFile)) {
      const [rss, user, sys] = (readFileSync(timeFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
      maxRssKiB = Number.isFinite(rss) ? rss : undefined;
      cpuMs = Number.isFinite(user) && Number.isFinite(sys) ? (user! + sys!) * 1000 : undefined;
    }
    return { ms, maxRssKiB, cpuMs, stdout, stderr };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const groups = new Set<number>();

function killGroup(pgid: number | undefined): void {
  if (!pgid) return;
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

// A bench stopped half-way leaves no synth or suite running behind it.
process.once('exit', () => {
  for (const g of groups) killGroup(g);
});

/** Output of a quick command, or '' when it fails (for the machine description). */
export async function capture(command: string, args: readonly string[], options: RunOptions = {}): Promise<string> {
  try {
    const r = await run(command, args, options);
    return (r.stdout || r.stderr).trim();
  } catch {
    return '';
  }
}
