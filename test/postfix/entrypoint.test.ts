import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { CONFIG_FILES, ENTRYPOINT_PATH, PATHS } from '../../src/postfix/layout';
import { MONITOR_GID, renderEntrypoint } from '../../src/postfix/entrypoint';
import { renderPostfixFiles } from '../../src/postfix';

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
    expect(code).toMatch(/exited unexpectedly[^\n]*\nexit 1\n/);
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
