import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EnvironmentConfig } from '../../../src/config/schema';
import { CONFIG_FILES } from '../../../src/postfix/layout';
import { MONITOR_GID, overrideMainCf, renderPostfixFiles, type PostfixFiles } from '../../../src/postfix';
import { capabilitiesForGeneration, expectedPostfixVersion, postfixGeneration } from './generation';
import { canConnect, freePort } from './net';
import { descendants, isAlive, isRunning, signal } from './processes';
import { sleep, waitFor } from './wait';

/** Where a test instance lives; every path is under one temporary directory. */
export interface InstancePaths {
  readonly dir: string;
  readonly configDir: string;
  readonly queueDir: string;
  readonly dataDir: string;
  readonly logDir: string;
  readonly logFile: string;
}

export interface PrepareOptions {
  readonly env: EnvironmentConfig;
  /** The sink standing in for the relay; without it relayhost keeps the rendered value. */
  readonly relay?: { readonly host?: string; readonly port: number };
  /** Test CA for smtp_tls_CAfile; without it the rendered value stays. */
  readonly caFile?: string;
  /** smtpd port on 127.0.0.1; a free one when omitted. */
  readonly port?: number;
  /** Further main.cf overrides, applied like the harness' own (original line commented out). */
  readonly mainCf?: Readonly<Record<string, string>>;
  /** Last chance to change the rendered files (e.g. to break them on purpose). */
  readonly editFiles?: (files: PostfixFiles) => PostfixFiles;
}

export interface PreparedInstance extends InstancePaths {
  readonly port: number;
  readonly files: PostfixFiles;
}

/** The smtpd address clients inside mynetworks use, and the source address of an outside client. */
export const INSIDE_ADDRESS = '127.0.0.1';
export const OUTSIDE_ADDRESS = '127.0.0.2';

/**
 * Writes an environment's rendered files to a fresh temporary directory with only the test
 * overrides: paths under that directory, smtpd on 127.0.0.1:<port>, mynetworks 127.0.0.1/32 (so
 * a client bound to 127.0.0.2 is outside), no reverse lookups, and, when given, relayhost on the
 * sink and the test CA. The rendered lines are commented out, never duplicated.
 */
export async function preparePostfix(options: PrepareOptions): Promise<PreparedInstance> {
  const dir = mkdtempSync(join(tmpdir(), `relay-${options.env.name}-`));
  chmodSync(dir, 0o755); // daemons (uid postfix) reach data_directory and the log by absolute path
  const paths: InstancePaths = {
    dir,
    configDir: join(dir, 'config'),
    queueDir: join(dir, 'queue'),
    dataDir: join(dir, 'data'),
    logDir: join(dir, 'log'),
    logFile: join(dir, 'log', 'postfix.log'),
  };
  mkdirSync(paths.configDir);
  const port = options.port ?? (await freePort());
  const rendered = renderPostfixFiles(options.env);
  const overrides: Record<string, string> = {
    queue_directory: paths.queueDir,
    data_directory: paths.dataDir,
    maillog_file: paths.logFile,
    maillog_file_prefixes: paths.logDir,
    inet_interfaces: INSIDE_ADDRESS,
    mynetworks: `${INSIDE_ADDRESS}/32`,
    smtpd_peername_lookup: 'no',
    ...(options.relay ? { relayhost: `[${options.relay.host ?? '127.0.0.1'}]:${options.relay.port}` } : {}),
    ...(options.caFile ? { smtp_tls_CAfile: options.caFile } : {}),
    ...options.mainCf,
  };
  const smtpd = /^25(\s+inet\s)/m;
  if (!smtpd.test(rendered[CONFIG_FILES.masterCf])) throw new Error('master.cf has no "25 inet" smtpd line to move to a test port');
  let files: PostfixFiles = {
    ...rendered,
    [CONFIG_FILES.mainCf]: overrideMainCf(rendered[CONFIG_FILES.mainCf], overrides, 'integration-test overrides'),
    [CONFIG_FILES.masterCf]: rendered[CONFIG_FILES.masterCf].replace(smtpd, `${INSIDE_ADDRESS}:${port}$1`),
  };
  if (options.editFiles) files = options.editFiles(files);
  writeConfigMapLayout(paths.configDir, files);
  return { ...paths, port, files };
}

/**
 * Writes files the way the kubelet mounts a ConfigMap: the real files (mode 0644) in a
 * timestamped directory, `..data` pointing at it, and one symlink per key.
 */
function writeConfigMapLayout(configDir: string, files: PostfixFiles): void {
  const real = '..2026_01_01_00_00_00.000000001';
  mkdirSync(join(configDir, real));
  symlinkSync(real, join(configDir, '..data'));
  // Postfix re-reads a main.cf younger than about 2 s; make the files look old.
  const old = new Date(Date.now() - 10_000);
  for (const [name, text] of Object.entries(files)) {
    const path = join(configDir, real, name);
    writeFileSync(path, text, { mode: 0o644 });
    utimesSync(path, old, old);
    symlinkSync(join('..data', name), join(configDir, name));
  }
}

export interface StartOptions extends PrepareOptions {
  /**
   * Linux capabilities (without CAP_) to run under, as Kubernetes would after `drop: [ALL]`:
   * the bounding set is cut to exactly these (capsh) with no_new_privs. Default: unrestricted root.
   */
  readonly capabilities?: readonly string[];
  /**
   * Run the entrypoint under BusyBox `sh` with BusyBox applets first in PATH (tail, wc, chown,
   * find, sed...), as in the Alpine image. Needs the busybox binary.
   */
  readonly busybox?: boolean;
  /** Resolve as soon as the process is spawned (for tests of failing starts). Default false. */
  readonly noWait?: boolean;
  /**
   * Start on the directory (config, queue, log) of an instance that was kill()ed or stop()ped
   * with `keepFiles`, as a restarted container finds its volumes. The other options except
   * capabilities, noWait and readyTimeoutMs are then ignored.
   */
  readonly reuse?: PreparedInstance;
  readonly readyTimeoutMs?: number;
}

export interface QueueEntry {
  readonly queue_name: string;
  readonly queue_id: string;
  readonly sender: string;
  readonly recipients: ReadonlyArray<{ readonly address: string; readonly delay_reason?: string }>;
  readonly message_size: number;
  readonly arrival_time: number;
}

export interface PostfixInstance extends PreparedInstance {
  readonly host: typeof INSIDE_ADDRESS;
  readonly outsideAddress: typeof OUTSIDE_ADDRESS;
  /** The entrypoint's process (its own process group). */
  readonly process: ChildProcess;
  /** Everything the entrypoint wrote (the log mirror on stdout, its own messages on stderr). */
  readonly output: { stdout: string; stderr: string };
  /** Resolves with the entrypoint's exit code (or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  masterPid(): number | undefined;
  /** `postqueue -j`: every queued message. */
  queue(): QueueEntry[];
  /** `postqueue -f`: retry deferred mail now. */
  flush(): void;
  /** The Postfix log file so far. */
  log(): string;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  waitForQueue(predicate: (q: QueueEntry[]) => boolean, what: string, timeoutMs?: number): Promise<QueueEntry[]>;
  /**
   * SIGTERM to the entrypoint (graceful `postfix stop`); force-kills whatever is left after
   * `graceMs`; removes the directory unless `keepFiles` (or env KEEP_TEST_DIRS) is set.
   */
  stop(graceMs?: number, options?: { keepFiles?: boolean }): Promise<number | null>;
  /** SIGKILL the entrypoint, the master and every child at once (a crash). Keeps the directory. */
  kill(): void;
  /**
   * kill(), then wait until none of those processes runs any more (their sockets and locks are
   * released), as when Kubernetes starts the next container. Use before a restart with `reuse`.
   */
  crash(): Promise<void>;
}

const running = new Set<PostfixInstance>();
/** Every directory an instance used; removed by stopAllPostfix once no instance runs on it. */
const dirs = new Set<string>();

/**
 * Starts Postfix the way the pod does: the rendered entrypoint.sh (postfix check, start-fg,
 * log streaming, showq group), from a prepared directory. Resolves when smtpd accepts
 * connections and the entrypoint has handed showq to the monitor group.
 */
export async function startPostfix(options: StartOptions): Promise<PostfixInstance> {
  const prepared = options.reuse ?? (await preparePostfix(options));
  const script = join(prepared.configDir, CONFIG_FILES.entrypoint);
  const shell = options.busybox ? busyboxShell(prepared.dir) : { sh: '/bin/sh', env: process.env };
  // On the 3.10 generation the wrappers need two capabilities more to enter the root; they drop
  // them again before Postfix runs, so Postfix gets exactly `capabilities`.
  const caps = options.capabilities && capabilitiesForGeneration(options.capabilities);
  const [command, args] = caps
    ? ['capsh', [`--drop=${capsToDrop(caps.bounding).join(',')}`, '--no-new-privs', `--shell=${shell.sh}`, '--', script]]
    : [shell.sh, [script]];
  const child = spawn(command, args as string[], { cwd: prepared.dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...shell.env, ...caps?.env } });
  const output = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (output.stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (output.stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let knownMaster: number | undefined;

  const masterPid = () => {
    try {
      const pid = Number(readFileSync(join(prepared.queueDir, 'pid', 'master.pid'), 'utf8').trim());
      if (pid > 0) knownMaster = pid;
    } catch {
      // not started (yet)
    }
    return knownMaster;
  };
  let done = false;
  const killTree = (): number[] => {
    if (done) return [];
    const master = masterPid();
    const pids = [...(child.pid ? descendants(child.pid) : []), ...(master ? descendants(master) : [])];
    if (master) signal(-master, 'SIGKILL');
    if (child.pid) signal(-child.pid, 'SIGKILL');
    for (const pid of pids) signal(pid, 'SIGKILL');
    return [...pids, ...(master ? [master] : []), ...(child.pid ? [child.pid] : [])];
  };
  // Once this instance is over, its directory may belong to a restarted instance (reuse):
  // never signal the master whose pid that directory now holds.
  const finish = (): number[] => {
    const killed = killTree();
    done = true;
    running.delete(instance);
    return killed;
  };
  const log = () => (existsSync(prepared.logFile) ? readFileSync(prepared.logFile, 'utf8') : '');
  const instance: PostfixInstance = {
    ...prepared,
    host: INSIDE_ADDRESS,
    outsideAddress: OUTSIDE_ADDRESS,
    process: child,
    output,
    exited,
    masterPid,
    queue: () => postqueueJson(prepared.configDir),
    flush: () => {
      execFileSync('postqueue', ['-c', prepared.configDir, '-f'], { stdio: 'pipe' });
    },
    log,
    waitForLog: (pattern, timeoutMs = 15_000) =>
      waitFor(`log line ${pattern}`, () => pattern.exec(log())?.[0], { timeoutMs }),
    waitForQueue: (predicate, what, timeoutMs = 15_000) =>
      waitFor(what, () => {
        const q = postqueueJson(prepared.configDir);
        return predicate(q) && q;
      }, { timeoutMs }),
    async stop(graceMs = 8_000, { keepFiles = false } = {}) {
      if (!done) {
        if (child.exitCode === null && child.signalCode === null) {
          signal(child.pid!, 'SIGTERM');
          await Promise.race([exited, sleep(graceMs)]);
        }
        const master = masterPid();
        if (master && isAlive(master)) await waitFor('the master to exit', () => !isAlive(master), { timeoutMs: 3_000 }).catch(() => undefined);
        finish();
      }
      const inUse = [...running].some((i) => i.dir === prepared.dir);
      if (!keepFiles && !inUse && !process.env.KEEP_TEST_DIRS) rmSync(prepared.dir, { recursive: true, force: true });
      return child.exitCode;
    },
    kill: () => void finish(),
    async crash() {
      const killed = finish();
      await waitFor('every process of the crashed instance to be gone', () => !killed.some(isRunning), { timeoutMs: 10_000, intervalMs: 20 });
      await exited;
    },
  };
  running.add(instance);
  dirs.add(prepared.dir);
  if (options.noWait) return instance;

  try {
    const ready = waitFor(
      `Postfix on 127.0.0.1:${prepared.port}`,
      // A restart on the same queue (reuse) finds the last master's pid file and public/ still in
      // the monitor group: only a live master proves that this start got that far.
      async () => {
        const master = masterPid();
        return master !== undefined && isRunning(master) && (await canConnect(INSIDE_ADDRESS, prepared.port)) && monitorGroupSet(prepared.queueDir);
      },
      { timeoutMs: options.readyTimeoutMs ?? 20_000 },
    );
    const early = exited.then((code) => {
      throw new Error(`the entrypoint exited with ${code} before Postfix was ready`);
    });
    ready.catch(() => undefined);
    early.catch(() => undefined);
    await Promise.race([ready, early]);
    await checkGeneration(instance);
  } catch (err) {
    const detail = `${(err as Error).message}\n--- entrypoint stderr ---\n${output.stderr}\n--- log ---\n${log()}`;
    await instance.stop(1_000);
    throw new Error(detail);
  }
  return instance;
}

/** Stops every instance still running (call from afterAll/afterEach; safe to call twice). */
export async function stopAllPostfix(): Promise<void> {
  await Promise.all([...running].map((i) => i.stop(3_000)));
  if (!process.env.KEEP_TEST_DIRS) for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

process.once('exit', () => {
  for (const i of [...running]) i.kill();
  if (!process.env.KEEP_TEST_DIRS) for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A directory of BusyBox applet links (no sendmail: that name is Postfix'), first in PATH. */
function busyboxShell(dir: string): { sh: string; env: NodeJS.ProcessEnv } {
  const bin = join(dir, 'busybox-bin');
  mkdirSync(bin, { recursive: true });
  const busybox = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'sendmail');
  for (const a of applets) if (!existsSync(join(bin, a))) symlinkSync(busybox, join(bin, a));
  return { sh: join(bin, 'sh'), env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` } };
}

/**
 * The master logs its version at start: it must be the generation under test (3.7 on the host,
 * 3.10 from the test root), or a command ran past the wrappers and the test would prove nothing.
 */
async function checkGeneration(instance: PostfixInstance): Promise<void> {
  const expected = expectedPostfixVersion();
  const started = await instance.waitForLog(/postfix\/master\[\d+\]: daemon started -- version \S+?,/, 10_000);
  const version = /version (\S+?),/.exec(started)![1];
  if (version !== expected) {
    throw new Error(`this instance runs Postfix ${version}, but the generation under test (${postfixGeneration()}) is Postfix ${expected}: a Postfix command ran past the wrappers in PATH`);
  }
}

function monitorGroupSet(queueDir: string): boolean {
  try {
    return statSync(join(queueDir, 'public')).gid === MONITOR_GID;
  } catch {
    return false;
  }
}

function postqueueJson(configDir: string): QueueEntry[] {
  const out = execFileSync('postqueue', ['-c', configDir, '-j'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as QueueEntry);
}

/** Every capability this kernel knows, as cap_xxx names. */
function allCaps(): string[] {
  const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
  const mask = ((1n << BigInt(last + 1)) - 1n).toString(16);
  const decoded = execFileSync('capsh', [`--decode=${mask}`], { encoding: 'utf8' });
  return decoded.slice(decoded.indexOf('=') + 1).trim().split(',');
}

function capsToDrop(keep: readonly string[]): string[] {
  const wanted = new Set(keep.map((c) => `cap_${c.toLowerCase()}`));
  return allCaps().filter((c) => !wanted.has(c));
}
