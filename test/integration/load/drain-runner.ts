import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentConfig } from '../../../src/config/schema';
import { renderDrainScript } from '../../../src/postfix/drain';
import { CONFIG_FILES } from '../../../src/postfix/layout';
import { findTool, withPostfixCommandsFirst, type PostfixInstance } from '../harness';

export interface DrainRun {
  readonly code: number | null;
  readonly ms: number;
  readonly log: string;
}

/** Applets drain.sh uses besides the Postfix commands. */
const APPLETS = ['sh', 'sed', 'awk', 'grep', 'find', 'date', 'tr', 'wc', 'mv', 'chown', 'sleep', 'cat'];

/**
 * Runs drain.sh as the kubelet would (sh <path>), on this instance; its log goes to a file.
 * `busybox: true` runs it as on the Alpine image: BusyBox ash, with BusyBox applets ahead of the
 * system tools (the script's PATH line is the only change).
 */
export function runDrain(
  pf: Pick<PostfixInstance, 'configDir' | 'dir'>,
  env: EnvironmentConfig,
  { busybox = false }: { busybox?: boolean } = {},
): Promise<DrainRun> {
  const script = join(pf.configDir, CONFIG_FILES.drain);
  const logFile = join(pf.dir, 'drain.log');
  let text = renderDrainScript(env);
  if (busybox) {
    const applets = join(pf.dir, 'busybox-applets');
    mkdirSync(applets, { recursive: true });
    for (const applet of APPLETS) if (!existsSync(join(applets, applet))) symlinkSync(findTool('busybox')!, join(applets, applet));
    if (!/^PATH=\/usr\/sbin/m.test(text)) throw new Error('drain.sh no longer sets PATH=/usr/sbin...: update the BusyBox runner');
    text = text.replace(/^PATH=/m, `PATH=${applets}:`);
  }
  writeFileSync(script, withPostfixCommandsFirst(text), { mode: 0o755 });
  const started = Date.now();
  const child = spawn(busybox ? findTool('busybox')! : 'sh', busybox ? ['sh', script] : [script], {
    env: { ...process.env, POSTFIX_CONFIG_DIR: pf.configDir, DRAIN_LOG: logFile },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  // Bounded even if the drain were broken: the kubelet would kill it at the grace period.
  const guard = setTimeout(() => child.kill('SIGKILL'), (env.queue.drainDeadlineSeconds + 15) * 1000);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, ms: Date.now() - started, log: existsSync(logFile) ? readFileSync(logFile, 'utf8') : '' });
    });
  });
}

