import { spawnSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { loadEnvironmentFile, parseEnvironment } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import {
  DRAIN_MIN_SECONDS,
  DRAIN_REFUSE_REPLY,
  DRAIN_REFUSE_RESTRICTION,
  DRAIN_REFUSE_TABLE,
  renderDrainScript,
} from '../../src/postfix/drain';
import { PATHS } from '../../src/postfix/layout';
import { isCI } from '../ci';

const ENVIRONMENTS = ['dev', 'staging', 'prod'].map((name) => loadEnvironmentFile(`environments/${name}.yaml`));

function environment(overrides: Record<string, unknown> = {}): EnvironmentConfig {
  return parseEnvironment(
    {
      namespace: 'relay-test',
      mail: { hostname: 'mail.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] },
      ...overrides,
    },
    'test/test.yaml',
  );
}

/** The shell commands of the script, without comments. */
function commands(script: string): string[] {
  return script
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Commands that run something: log messages and awk's print lines only mention commands. */
function invocations(script: string): string[] {
  return commands(script).filter((l) => !/^log "/.test(l) && !/\bprint "/.test(l));
}

/** Lines that run a Postfix command (postfix, postqueue, postconf, postsuper). */
function postfixCommandLines(script: string): string[] {
  return invocations(script).filter((l) => /(^|[\s($|&])(postfix|postqueue|postconf|postsuper) /.test(l));
}

/**
 * Whether shellcheck runs here. Missing: a failure in CI, and outside CI a skip that shows as
 * skipped in the report (never a test that passes without checking) with a loud warning.
 */
function shellcheckAvailable(run: () => number | null = () => spawnSync('shellcheck', ['--version']).status, ci = isCI()): boolean {
  if (run() === 0) return true;
  const hint = 'shellcheck is missing: apt-get install -y --no-install-recommends shellcheck';
  if (ci) throw new Error(`${hint} (CI is set, which makes a missing tool a failure)`);
  console.warn(`\n*** SKIPPING the shellcheck tests of drain.sh: ${hint}\n`);
  return false;
}
const SHELLCHECK = shellcheckAvailable();

describe('renderDrainScript', () => {
  const script = renderDrainScript(environment());

  it('is a POSIX sh script', () => {
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    const syntax = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
  });

  it.skipIf(!SHELLCHECK).each(ENVIRONMENTS.map((env) => [env.name, env] as const))('passes shellcheck -s sh for %s', (_name, env) => {
    const result = spawnSync('shellcheck', ['-s', 'sh', '-'], { input: renderDrainScript(env), encoding: 'utf8' });
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('waits at most queue.drainDeadlineSeconds', () => {
    expect(renderDrainScript(environment({ queue: { drainDeadlineSeconds: 42 } }))).toMatch(/^deadline_seconds=42$/m);
  });

  it.each(ENVIRONMENTS.map((env) => [env.name, env] as const))(
    'ends at least 10 s before terminationGracePeriodSeconds in %s',
    (_name, env) => {
      const deadline = Number(/^deadline_seconds=(\d+)$/m.exec(renderDrainScript(env))?.[1]);
      expect(deadline + 10).toBeLessThanOrEqual(env.terminationGracePeriodSeconds);
    },
  );

  it('runs every Postfix command on the ConfigMap directory (-c), since /etc/postfix is not the config', () => {
    expect(script).toContain(`config_dir="\${POSTFIX_CONFIG_DIR:-${PATHS.configDir}}"`);
    const lines = postfixCommandLines(script);
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const line of lines) expect(line).toMatch(/(postfix|postqueue|postconf) -c "\$config_dir"/);
  });

  it('never stops Postfix (that would stop delivery too) nor edits main.cf (read-only)', () => {
    const code = invocations(script).join('\n');
    expect(code).not.toMatch(/postfix -c "\$config_dir" (stop|abort)/);
    expect(code).not.toMatch(/postconf[^\n]* -e/);
    expect(code).not.toMatch(/postsuper/);
  });

  it('refuses new mail with a 421 from the table that main.cf consults, then reloads', () => {
    expect(DRAIN_REFUSE_REPLY).toMatch(/^421 4\.\d\.\d /);
    // Through proxymap, which the reload restarts: sessions already open see the new table too.
    expect(DRAIN_REFUSE_RESTRICTION).toBe(`check_client_access proxy:cidr:$data_directory/${DRAIN_REFUSE_TABLE}`);
    expect(script).toContain(`refuse_table="$data_dir/${DRAIN_REFUSE_TABLE}"`);
    expect(script).toContain("printf '0.0.0.0/0 %s\\n::/0 %s\\n'");
    const refuse = script.indexOf('>"$refuse_table.new"');
    const reload = script.indexOf('postfix -c "$config_dir" reload');
    const flush = script.indexOf('postqueue -c "$config_dir" -f');
    expect(refuse).toBeGreaterThan(0);
    expect(reload).toBeGreaterThan(refuse);
    expect(flush).toBeGreaterThan(reload);
  });

  it('kills nothing: an smtpd killed in its first session would make the master throttle SMTP', () => {
    expect(invocations(script).filter((l) => /\bkill\b/.test(l))).toEqual([]);
    expect(script).not.toMatch(/pkill|killall/);
  });

  it(`waits at least ${DRAIN_MIN_SECONDS} s, so transactions past RCPT complete before the queue counts as empty`, () => {
    expect(script).toMatch(new RegExp(`^min_seconds=${DRAIN_MIN_SECONDS}$`, 'm'));
    expect(script).toContain('[ "$pending" -eq 0 ] && [ $((now - started)) -ge "$min_seconds" ] && break');
  });

  it('logs to the container stdout (PID 1) so kubectl logs shows it, and always exits 0', () => {
    expect(script).toContain('log_target="${DRAIN_LOG:-/proc/1/fd/1}"');
    const exits = commands(script).filter((l) => /^exit\b/.test(l));
    expect(exits).toEqual(['exit 0', 'exit 0']);
  });

  it('says where mail left at the deadline goes: the PVC, or lost with an emptyDir', () => {
    const durable = renderDrainScript(environment({ queue: { persistence: { enabled: true } } }));
    const ephemeral = renderDrainScript(environment({ queue: { persistence: { enabled: false } } }));
    expect(durable).toMatch(/^leftover_note='they stay on this pod.*queue volume/m);
    expect(ephemeral).toMatch(/^leftover_note='the queue is an emptyDir: they are LOST/m);
  });

  it('quotes values containing a single quote', () => {
    const durable = renderDrainScript(environment({ queue: { persistence: { enabled: true } } }));
    expect(durable).toContain(`this pod'\\''s queue volume`);
  });

  it('is deterministic and names its environment', () => {
    const env = environment();
    expect(renderDrainScript(env)).toBe(renderDrainScript(env));
    expect(renderDrainScript(env)).toContain('rendered from environment "test"');
  });
});

describe('a missing shellcheck', () => {
  it('skips the shellcheck tests loudly outside CI (a skip in the report, never an early pass)', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      expect(shellcheckAvailable(() => 127, false)).toBe(false);
      expect(warn).toHaveBeenCalledWith(expect.stringMatching(/\*\*\* SKIPPING the shellcheck tests of drain\.sh: shellcheck is missing: apt-get install/));
    } finally {
      warn.mockRestore();
    }
  });

  it('fails in CI', () => {
    expect(() => shellcheckAvailable(() => null, true)).toThrow(/shellcheck is missing: apt-get install -y --no-install-recommends shellcheck \(CI is set/);
  });

  it('is no reason to skip when it runs', () => {
    expect(shellcheckAvailable(() => 0, true)).toBe(true);
  });
});
