import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_FILES } from '../../../src/postfix/layout';
import { canConnect, descendants, isRunning, sleep, waitFor, type PostfixInstance } from '../harness';

/**
 * Crash and restart of a harness instance on the same directories, as Kubernetes restarts a
 * crashed container on the same volumes: the rendered entrypoint runs again on the same
 * config, queue and data directories.
 */

export interface CrashReport {
  readonly master: number;
  /** The master's descendants at the moment of the crash (smtpd, cleanup, qmgr, smtp, ...). */
  readonly children: number;
}

/** A running Postfix container: the harness' first start, or a restart. */
export interface Crashable {
  masterPid(): number | undefined;
  /** SIGKILL the entrypoint, the master and every child at once, by process group and by descent. */
  kill(): void;
}

/** Crashes the container (never by process name) and waits until none of its processes runs. */
export async function crash(target: Crashable): Promise<CrashReport> {
  const master = target.masterPid();
  if (master === undefined || !isRunning(master)) throw new Error('no running master to crash');
  const victims = [master, ...descendants(master)];
  target.kill();
  await waitFor('the crashed master and its children to be gone', () => !victims.some(isRunning), { timeoutMs: 10_000, intervalMs: 20 });
  return { master, children: victims.length - 1 };
}

export interface Restarted extends Crashable {
  readonly process: ChildProcess;
  readonly stderr: () => string;
  /** SIGTERM (graceful `postfix stop`), then SIGKILL whatever is left of this start. */
  stop(): Promise<void>;
}

/** Runs the instance's rendered entrypoint again on the same directories; resolves when smtpd answers. */
export async function restart(pf: PostfixInstance): Promise<Restarted> {
  const child = spawn('sh', [join(pf.configDir, CONFIG_FILES.entrypoint)], {
    cwd: pf.dir,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const masterPid = () => {
    try {
      const pid = Number(readFileSync(join(pf.queueDir, 'pid', 'master.pid'), 'utf8').trim());
      return pid > 0 && isRunning(pid) && descendants(child.pid!).length > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };
  const kill = () => {
    const master = masterPid();
    for (const pid of [child.pid!, ...(master ? [master] : [])]) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // not a group leader, or gone
      }
    }
    for (const pid of master ? [master, ...descendants(master)] : []) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  const handle: Restarted = {
    process: child,
    stderr: () => stderr,
    masterPid,
    kill,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(child.pid!, 'SIGTERM');
        await Promise.race([exited, sleep(8_000)]);
      }
      kill();
    },
  };
  try {
    await waitFor('the restarted Postfix to accept connections', async () => {
      if (child.exitCode !== null) throw new Error(`the entrypoint exited with ${child.exitCode}: ${stderr}`);
      return canConnect(pf.host, pf.port);
    }, { timeoutMs: 20_000 });
  } catch (err) {
    await handle.stop();
    throw err;
  }
  return handle;
}
