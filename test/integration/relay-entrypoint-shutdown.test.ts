import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CONFIG_FILES } from '../../src/postfix/layout';
import {
  isRunning,
  processGroupMembers,
  requireTool,
  sleep,
  startPostfix,
  stopAllPostfix,
  tempDir,
  waitFor,
  type PostfixFiles,
  type PostfixInstance,
} from './harness';
import { environmentVariant } from './support/env-variant';
import { authTestOverrides, secretVolume, type SecretVolume } from './support/secret-volume';

// The entrypoint's shutdown is orderly however SIGTERM falls: its background loop (log rotation
// and, with relay.auth, the Secret watcher) is stopped and waited for before `postfix stop`, so no
// loop reloads or flushes a Postfix that is stopping or stopped; a second SIGTERM does not run
// `postfix stop` again; a SIGTERM during start-up stops the master once it runs (or exits before
// it starts), never leaving it behind.
//
// To make the race likely, the script under test is the rendered one with the loop turned up:
// it turns every 0.1 s and rotates the log at 2,000 bytes (about once a second here), and the
// test rotates the relay credentials every 50 ms, so the watcher rebuilds the table, reloads and
// flushes on every turn. A spy first in PATH
// records, around the real commands, when each `postfix reload`, `postfix stop` and `postqueue
// -f` begins and ends, and how it ended.

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');
const busyboxReady = ready && requireTool('busybox', 'busybox');

const env = environmentVariant('environments/prod.yaml', 'prod-auth', { relay: { auth: { secretName: 'gmail-relay' } } });

const NOT_RUNNING = /the Postfix mail system is not running/;

/** A directory with `postfix` and `postqueue` spies that log each call, then run the real command. */
function spyBin(dir: string): { bin: string; events: () => string[] } {
  const bin = join(dir, 'spy-bin');
  const events = join(dir, 'spy.log');
  mkdirSync(bin, { recursive: true });
  writeFileSync(events, '');
  for (const name of ['postfix', 'postqueue']) {
    const real = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    // Only the calls under watch are wrapped; every other call execs the real command (so the pid
    // the entrypoint sees for `postfix start-fg` stays Postfix' own).
    writeFileSync(
      join(bin, name),
      `#!/bin/sh
what=$(echo "${name} $*" | sed 's/ -c [^ ]*//')
case " $* " in
*" reload "* | *" stop "* | *" -f "*) ;;
*" start-fg "*) echo "exec $what" >>${events} && exec ${real} "$@" ;;
*) exec ${real} "$@" ;;
esac
echo "begin $what" >>${events}
err=$(${real} "$@" 2>&1 >/dev/null)
rc=$?
echo "end $what rc=$rc $err" | tr '\\n' ' ' >>${events}
echo >>${events}
[ -z "$err" ] || printf '%s\\n' "$err" >&2
exit $rc
`,
    );
    chmodSync(join(bin, name), 0o755);
  }
  return { bin, events: () => readFileSync(events, 'utf8').split('\n').filter(Boolean) };
}

/**
 * What the spy log must show: every call ended well, and nothing began once `postfix stop`
 * began, nor was still running then (the loop was stopped and waited for first).
 */
function checkOrder(events: readonly string[]): string[] {
  const problems: string[] = [];
  let inFlight = 0;
  let stopped = false;
  for (const e of events) {
    if (/^end .* rc=(?!0 )/.test(e)) problems.push(`failed: ${e}`);
    if (e.startsWith('begin postfix stop')) {
      if (stopped) problems.push('postfix stop ran twice');
      if (inFlight > 0) problems.push(`postfix stop began while ${inFlight} reload/flush still ran`);
      stopped = true;
    } else if (e.startsWith('begin ')) {
      if (stopped) problems.push(`after postfix stop began: ${e}`);
      inFlight++;
    } else if (e.startsWith('end ') && !e.startsWith('end postfix stop')) inFlight--;
  }
  return problems;
}

interface Round {
  readonly pf: PostfixInstance;
  readonly spy: ReturnType<typeof spyBin>;
  readonly secret: SecretVolume;
  readonly master: () => number | undefined;
}

async function startRound(options: { busybox: boolean; noWait: boolean }): Promise<Round> {
  const dir = tempDir('entry-shutdown-');
  const spy = spyBin(dir);
  const secret = secretVolume(join(dir, 'secret'), { username: 'relay@bionicaisolutions.com', password: 'p0' });
  const overrides = authTestOverrides(env, secret.dir, join(dir, 'sasl'));
  const edit = (files: PostfixFiles): PostfixFiles => {
    let script = overrides.editFiles(files)[CONFIG_FILES.entrypoint];
    for (const [from, to] of [
      [/^rotate_bytes=\d+$/m, 'rotate_bytes=2000'],
      [/^rotate_check_seconds=\d+$/m, 'rotate_check_seconds=0.1'],
      [/^export PATH$/m, `export PATH\nPATH=${spy.bin}:$PATH`],
    ] as const) {
      if (!from.test(script)) throw new Error(`entrypoint.sh has no ${from}`);
      script = script.replace(from, to);
    }
    return { ...files, [CONFIG_FILES.entrypoint]: script };
  };
  const pf = await startPostfix({ env, mainCf: overrides.mainCf, editFiles: edit, busybox: options.busybox, noWait: options.noWait });
  return { pf, spy, secret, master: () => pf.masterPid() };
}

/** Rotates the credentials every 50 ms until the returned function is called. */
function churnSecret(secret: SecretVolume): () => void {
  let n = 0;
  const timer = setInterval(() => secret.update({ username: 'relay@bionicaisolutions.com', password: `p${++n}` }), 50);
  return () => clearInterval(timer);
}

/** `count` SIGTERMs (default 1-4), 0-300 ms apart, starting after `delayMs`; returns the count. */
async function sigterms(pf: PostfixInstance, delayMs: number, count = 1 + Math.floor(Math.random() * 4)): Promise<number> {
  await sleep(delayMs);
  for (let i = 0; i < count; i++) {
    if (pf.process.exitCode !== null) break;
    pf.process.kill('SIGTERM');
    await sleep(Math.floor(Math.random() * 300));
  }
  return count;
}

async function expectCleanExit(round: Round, what: string, allowed: readonly number[]): Promise<number | null> {
  const { pf } = round;
  const code = await Promise.race([pf.exited, sleep(30_000).then(() => 'still running' as const)]);
  const logs = [pf.log(), existsSync(`${pf.logFile}.1`) ? readFileSync(`${pf.logFile}.1`, 'utf8') : ''].join('\n');
  const context = `${what}\n--- spy ---\n${round.spy.events().join('\n')}\n--- stderr ---\n${pf.output.stderr}\n--- stdout ---\n${pf.output.stdout}`;
  expect(code, context).not.toBe('still running');
  expect(allowed, context).toContain(code);
  expect(checkOrder(round.spy.events()), context).toEqual([]);
  expect(`${pf.output.stdout}\n${pf.output.stderr}\n${logs}`, context).not.toMatch(NOT_RUNNING);
  // Nothing left behind: the entrypoint's group (tail, the loop, its sleep) and the master's.
  const master = round.master();
  await waitFor('every process of the instance to be gone', () =>
    processGroupMembers(pf.process.pid!).length === 0 && (master === undefined || (!isRunning(master) && processGroupMembers(master).length === 0)),
    { timeoutMs: 5_000 },
  ).catch(() => {
    throw new Error(`processes left behind: entrypoint group ${processGroupMembers(pf.process.pid!)}, master ${master} group ${master ? processGroupMembers(master) : []}\n${context}`);
  });
  return code as number | null;
}

const shells = [
  ['sh (dash on Debian)', false],
  ['BusyBox sh and applets (the Alpine image)', true],
] as const;

describe.skipIf(!ready)('entrypoint.sh shutdown: orderly wherever SIGTERM falls', () => {
  afterEach(async () => {
    await stopAllPostfix();
  });
  afterAll(async () => {
    await stopAllPostfix();
  });

  describe.each(shells)('under %s', (_name, busybox) => {
    it.skipIf(busybox && !busyboxReady)('while it serves, rotates and reloads: exits 0, stops Postfix once, after its loop, with no "not running"', async () => {
      for (let i = 0; i < 3; i++) {
        const round = await startRound({ busybox, noWait: false });
        const stopChurn = churnSecret(round.secret);
        try {
          // Let the loop turn a few times (a reload and a flush each), then strike anywhere.
          await waitFor('the loop to have reloaded', () => round.spy.events().filter((e) => e.startsWith('end postfix reload')).length >= 2, { timeoutMs: 15_000 });
          const delay = Math.floor(Math.random() * 1_500);
          const count = await sigterms(round.pf, delay, i === 0 ? 3 : undefined); // always a repeated one
          await expectCleanExit(round, `round ${i}: ${count} SIGTERM(s) after ${delay} ms`, [0]);
        } finally {
          stopChurn();
        }
        expect(round.pf.output.stderr).toMatch(/entrypoint: SIGTERM: stopping Postfix[\s\S]*entrypoint: Postfix stopped/);
        expect(round.pf.output.stderr.match(/SIGTERM: stopping Postfix/g)).toHaveLength(1);
        await round.pf.stop();
      }
    });

    it.skipIf(busybox && !busyboxReady)('during start-up: Postfix is stopped once it runs (or never started), nothing is left behind', async () => {
      const codes: Array<number | null> = [];
      for (let i = 0; i < 4; i++) {
        const round = await startRound({ busybox, noWait: true });
        const stopChurn = churnSecret(round.secret);
        try {
          // Half the rounds strike anywhere in the first 1.5 s (before, during or after
          // `postfix check`), half while the master starts (0-800 ms after \`postfix start-fg\`).
          let delay = Math.floor(Math.random() * 1_500);
          if (i % 2 === 1) {
            await waitFor('postfix start-fg', () => round.spy.events().some((e) => e.startsWith('exec postfix start-fg')), { timeoutMs: 15_000 });
            delay = Math.floor(Math.random() * 800);
          }
          const count = await sigterms(round.pf, delay);
          const code = await expectCleanExit(round, `round ${i}: ${count} SIGTERM(s) after ${delay} ms${i % 2 ? ' from start-fg' : ''}`, [0, 143]);
          codes.push(code);
          if (code === 0) expect(round.pf.output.stderr).toMatch(/entrypoint: Postfix stopped/);
          else expect(round.pf.output.stderr).toMatch(/entrypoint: stopped before Postfix started/);
        } finally {
          stopChurn();
        }
        await round.pf.stop();
      }
      expect(codes).toHaveLength(4);
    });
  });
});
