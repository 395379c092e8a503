import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { CONFIG_FILES, ENTRYPOINT_PATH, PATHS } from '../../src/postfix/layout';
import { MONITOR_GID, renderEntrypoint } from '../../src/postfix/entrypoint';
import { renderPostfixFiles } from '../../src/postfix';
import { isCI } from '../ci';

const ENVS = ['dev', 'staging', 'prod'] as const;

describe.each(ENVS)('entrypoint.sh for %s', (name) => {
  const env = loadEnvironmentFile(`environments/${name}.yaml`);
  const script = renderEntrypoint(env);
  const code = script
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');

  it('is a POSIX sh script that names its environment', () => {
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain(`environment "${name}"`);
    expect(script).toContain(ENTRYPOINT_PATH);
    expect(code).not.toMatch(/\[\[|\bfunction\b|\blocal\b|\bsource\b|<<<|\$\{[a-z_]+\/\//);
  });

  it('runs Postfix on its own directory, never the image run.sh or /etc/postfix', () => {
    expect(code).toContain('config_dir=$(CDPATH=\'\' cd -- "$(dirname -- "$0")" && pwd)');
    expect(code).toContain('postfix -c "$config_dir" start-fg &');
    expect(code).not.toMatch(/run\.sh|\/etc\/postfix\b|postconf -e/);
  });

  it('fails fast and visibly on a configuration Postfix rejects', () => {
    const check = code.indexOf('postfix -c "$config_dir" check');
    expect(check).toBeGreaterThan(0);
    expect(check).toBeLessThan(code.indexOf('start-fg'));
    expect(code).toContain('postconf -c "$config_dir" -M');
    expect(code).toMatch(/die\(\) \{\n\s+say "FATAL: \$\*"/);
  });

  it('turns SIGTERM into postfix stop and exits when the master exits', () => {
    expect(code).toContain('trap on_term TERM INT');
    expect(code).toContain('postfix -c "$config_dir" stop');
    expect(code).toContain('wait "$master_job"');
    expect(code).toMatch(/exiting so that Kubernetes restarts the container"\nexit 1\n$/);
  });

  // Behaviour: test/integration/relay-entrypoint-shutdown.test.ts (both shells, both generations).
  it('stops in order: the handler runs once, the loop is stopped and waited for before postfix stop', () => {
    const body = (name: string) => new RegExp(`\n${name}\\(\\) \\{\n([\\s\\S]*?)\n\\}\n`).exec(code)?.[1] ?? '';
    // From its first command on, a further signal only sets the flag.
    expect(body('on_term').trimStart().startsWith("trap 'stop_requested=1' TERM INT")).toBe(true);
    const stop = body('stop_postfix');
    expect(stop).toMatch(/\[ "\$stopping" = 0 \] \|\| return 0\n\s+stopping=1/);
    expect(stop.indexOf('stop_loop')).toBeGreaterThan(0);
    expect(stop.indexOf('stop_loop')).toBeLessThan(stop.indexOf('postfix -c "$config_dir" stop'));
    // The loop is signalled until it is gone (a signal to a freshly forked subshell can be lost).
    expect(body('stop_loop')).toMatch(/while kill -TERM "\$loop_pid" 2>\/dev\/null; do/);
    // The loop is started while a SIGTERM only sets the flag, and checked for right after.
    const loopStart = code.indexOf('loop_pid=$!');
    expect(code.lastIndexOf('phase=starting', loopStart)).toBeGreaterThan(0);
    expect(code.indexOf('phase=running')).toBeGreaterThan(loopStart);
    expect(code.slice(code.indexOf('phase=running'))).toMatch(/^phase=running\n\s*if \[ "\$stop_requested" = 1 \]; then stop_postfix; fi/);
  });

  it('reloads only while the loop may act on a running master', () => {
    const loop = code.slice(code.indexOf('  (\n    stop=0'), code.indexOf('loop_pid=$!'));
    expect(loop).toContain("may_act() { [ \"$stop\" = 0 ] && kill -0 \"$master_job\" 2>/dev/null; }");
    for (const at of [...loop.matchAll(/postfix -c "\$config_dir" reload/g)].map((m) => m.index!)) {
      expect(loop.lastIndexOf('may_act', at)).toBeGreaterThan(loop.lastIndexOf('wait "$sleep_pid"', at));
    }
  });

  it('explains a master that dies at start-up (Postfix 3.10 logs nothing then)', () => {
    expect(code).toMatch(/if \[ "\$serving" = 0 \]; then\n\s+say "the Postfix master exited during start-up \(status \$status\)"\n\s+explain_start_failure/);
    expect(code).toContain("postconf -c \"$config_dir\" -M '*/inet'");
    expect(code).toContain('/proc/net/tcp /proc/net/tcp6');
    expect(code).toContain('NET_BIND_SERVICE');
  });

  it('is POSIX sh (dash -n, BusyBox ash -n) and passes shellcheck -s sh', () => {
    for (const [cmd, args] of [
      ['sh', ['-n']],
      ['busybox', ['sh', '-n']],
      ['shellcheck', ['-s', 'sh', '-']],
    ] as const) {
      const r = spawnSync(cmd, args, { input: script, encoding: 'utf8' });
      if (r.error) {
        const hint = `${cmd} is missing: apt-get install -y --no-install-recommends ${cmd}`;
        if (isCI()) throw new Error(hint);
        console.warn(`SKIPPING the ${cmd} check of entrypoint.sh: ${hint}`);
        continue;
      }
      expect(`${r.stdout}${r.stderr}`, cmd).toBe('');
      expect(r.status, cmd).toBe(0);
    }
  });

  it('streams the log to stdout and rotates it at the configured size', () => {
    expect(code).toContain('tail -n 0 -F "$log_file"');
    expect(code).toContain(`rotate_bytes=${env.metrics.logRotateBytes}`);
    expect(code).toContain('mv -f "$log_file" "$log_file.1"');
  });

  it('gives showq and the log to the monitor group', () => {
    expect(code).toContain(`monitor_gid=${MONITOR_GID}`);
    expect(code).toContain('chgrp "$monitor_gid" "$queue_dir/public"');
    expect(code).toContain('chown "root:$monitor_gid" "$log_dir" "$log_file"');
  });

  it('reads its paths from main.cf, so the pod paths live in one place', () => {
    for (const p of Object.values(PATHS)) expect(code).not.toContain(p);
    expect(code).toContain('param queue_directory');
  });

  it('matches the snapshot', () => {
    expect(script).toMatchSnapshot();
  });
});

describe('renderPostfixFiles', () => {
  it('renders the ConfigMap files this module owns (drain.sh comes from elsewhere)', () => {
    const files = renderPostfixFiles(loadEnvironmentFile('environments/prod.yaml'));
    expect(Object.keys(files).sort()).toEqual([CONFIG_FILES.entrypoint, CONFIG_FILES.mainCf, CONFIG_FILES.masterCf].sort());
    for (const text of Object.values(files)) expect(text.endsWith('\n')).toBe(true);
  });
});
