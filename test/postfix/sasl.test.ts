import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { renderPostfixFiles } from '../../src/postfix';
import { AUTH_FILES, PATHS } from '../../src/postfix/layout';
import { mainCfEntries } from '../../src/postfix/main-cf';
import { SASL_PASSWORD_MAPS } from '../../src/postfix/sasl';
import { isCI } from '../ci';

const environment = (relay: Record<string, unknown> = {}): EnvironmentConfig =>
  parseEnvironment(
    {
      namespace: 'email-server-test',
      relay,
      mail: { hostname: 'relay.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] },
    },
    'environments/test.yaml',
  );

const params = (env: EnvironmentConfig) => new Map(mainCfEntries(env).map(([n, v]) => [n, v]));
const withAuth = (auth: Record<string, unknown> = { secretName: 'gmail-relay' }, relay: Record<string, unknown> = {}) =>
  environment({ auth, ...relay });

function tool(name: string): boolean {
  const found = spawnSync(name, ['--version']).status === 0 || spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
  if (!found && isCI()) throw new Error(`${name} is missing: apt-get install -y --no-install-recommends ${name}`);
  if (!found) console.warn(`SKIPPING a ${name} check of the relay.auth entrypoint: apt-get install -y --no-install-recommends ${name}`);
  return found;
}

describe('relay.auth in main.cf', () => {
  it('is off without relay.auth: no SASL parameter at all (Postfix defaults: no AUTH)', () => {
    expect([...params(environment()).keys()].filter((n) => n.startsWith('smtp_sasl_'))).toEqual([]);
  });

  it('turns on SMTP AUTH with the table the entrypoint writes, PLAIN/LOGIN only, soft-bouncing refusals', () => {
    const p = params(withAuth());
    expect(p.get('smtp_sasl_auth_enable')).toBe('yes');
    expect(p.get('smtp_sasl_password_maps')).toBe(`texthash:${PATHS.saslTable}`);
    expect(SASL_PASSWORD_MAPS).toBe(`texthash:${PATHS.saslTable}`);
    expect(p.get('smtp_sasl_security_options')).toBe('noplaintext, noanonymous');
    expect(p.get('smtp_sasl_tls_security_options')).toBe('noanonymous');
    expect(p.get('smtp_sasl_mechanism_filter')).toBe('plain, login');
    expect(p.get('smtp_sasl_auth_soft_bounce')).toBe('yes');
  });

  it('never holds the credentials, only the name of the Secret (in a comment)', () => {
    const text = renderPostfixFiles(withAuth({ secretName: 'gmail-relay', usernameKey: 'user', passwordKey: 'pass' }))['main.cf'];
    expect(text).toContain('Secret "gmail-relay"');
    expect(text).not.toMatch(/^smtp_sasl_password_maps = (?!texthash:\/run\/postfix-relay-sasl\/passwd$)/m);
  });
});

describe('relay.port 465 in main.cf', () => {
  it('uses TLS from the first byte (wrappermode), still verified at the configured level', () => {
    const p = params(environment({ port: 465 }));
    expect(p.get('smtp_tls_wrappermode')).toBe('yes');
    expect(p.get('smtp_tls_security_level')).toBe('secure');
    expect(p.get('relayhost')).toBe('[smtp-relay.gmail.com]:465');
  });

  it.each([587, 25, 2525])('keeps STARTTLS on port %i', (port) => {
    expect(params(environment({ port })).has('smtp_tls_wrappermode')).toBe(false);
  });
});

describe('relay.auth in entrypoint.sh', () => {
  const script = renderPostfixFiles(withAuth({ secretName: 'gmail-relay', usernameKey: 'smtp-user', passwordKey: 'smtp-pass' }))['entrypoint.sh'];
  const plain = renderPostfixFiles(environment())['entrypoint.sh'];

  it('adds nothing to the entrypoint of an environment without relay.auth', () => {
    expect(plain).not.toMatch(/sasl|auth_dir|relay\.auth/);
  });

  it('reads the Secret volume, never environment variables, and writes the table root-only and atomically', () => {
    expect(script).toContain(`auth_dir=${PATHS.authDir}\n`);
    expect(script).toContain(`"$auth_dir/${AUTH_FILES.username}"`);
    expect(script).toContain(`"$auth_dir/${AUTH_FILES.password}"`);
    expect(script).toMatch(/umask 077\n\s+# printf is a shell builtin[^\n]*\n\s+printf '%s %s:%s\\n' "\$sasl_relayhost" "\$sasl_user" "\$sasl_pass" >"\$sasl_table\.new"/);
    expect(script).toContain('chmod 0600 "$sasl_table.new" && mv -f "$sasl_table.new" "$sasl_table";');
    expect(script).toContain('sasl_relayhost=$(param relayhost)');
    expect(script).toContain('sasl_maps=$(param smtp_sasl_password_maps)');
    expect(script).not.toMatch(/\$\{?(SMTP_|RELAY_)?(USER(NAME)?|PASS(WORD)?)\b/i);
  });

  it('names the Secret and its keys in its messages, never a value', () => {
    expect(script).toContain('Secret \\"gmail-relay\\" needs the keys \\"smtp-user\\" and \\"smtp-pass\\"');
    for (const line of script.split('\n').filter((l) => /\bsay "/.test(l))) expect(line).not.toMatch(/\$sasl_(user|pass)\b/);
  });

  it('builds the table before `postfix check` and the master start, or stops the container', () => {
    const build = script.indexOf('build_sasl_table || die');
    expect(build).toBeGreaterThan(0);
    expect(build).toBeLessThan(script.indexOf('postfix -c "$config_dir" check'));
    expect(build).toBeLessThan(script.indexOf('start-fg'));
  });

  it('watches the mounted Secret: rebuild, reload, retry the deferred mail', () => {
    const loop = script.slice(script.indexOf('# 6. Rotation'));
    expect(loop).toMatch(/now_sum=\$\(auth_checksum\)\n\s+if \[ "\$now_sum" != "\$auth_sum" \]; then[\s\S]*?if build_sasl_table; then[\s\S]*?postfix -c "\$config_dir" reload[\s\S]*?postqueue -c "\$config_dir" -f/);
  });

  it('is POSIX sh (sh -n, BusyBox ash -n) and passes shellcheck -s sh', () => {
    const syntax = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
    if (tool('busybox')) {
      const ash = spawnSync('busybox', ['sh', '-n'], { input: script, encoding: 'utf8' });
      expect(ash.stderr).toBe('');
      expect(ash.status).toBe(0);
    }
    if (tool('shellcheck')) {
      const r = spawnSync('shellcheck', ['-s', 'sh', '-'], { input: script, encoding: 'utf8' });
      expect(r.stdout).toBe('');
      expect(r.status).toBe(0);
    }
  });
});

describe('relay.auth validation', () => {
  const problems = (relay: Record<string, unknown>) => {
    try {
      environment(relay);
      return [];
    } catch (e) {
      return (e as Error).message.split('\n');
    }
  };

  it('defaults the keys to username and password', () => {
    expect(withAuth().relay.auth).toEqual({ secretName: 'gmail-relay', usernameKey: 'username', passwordKey: 'password' });
  });

  it.each(['secure', 'verify'])('accepts TLS level %s', (level) => {
    expect(problems({ tlsSecurityLevel: level, auth: { secretName: 's' } })).toEqual([]);
  });

  it('refuses encrypt, even with allowUnverifiedTls', () => {
    expect(problems({ tlsSecurityLevel: 'encrypt', allowUnverifiedTls: true, auth: { secretName: 's' } })).toEqual([
      'environments/test.yaml: relay.auth: needs relay.tlsSecurityLevel "secure" or "verify" (it is "encrypt"): the password would go to a relay whose certificate is not verified (got {"secretName":"s"})',
    ]);
  });

  it('refuses the same key for both, and names that are not Kubernetes names or keys', () => {
    expect(problems({ auth: { secretName: 's', usernameKey: 'k', passwordKey: 'k' } })).toEqual([
      'environments/test.yaml: relay.auth.passwordKey: must differ from relay.auth.usernameKey ("k") (got "k")',
    ]);
    expect(problems({ auth: { secretName: 'Gmail_Relay' } })[0]).toMatch(/relay\.auth\.secretName: must be a Kubernetes object name .*\(got "Gmail_Relay"\)/);
    expect(problems({ auth: { secretName: 's', passwordKey: 'a/b' } })[0]).toMatch(/relay\.auth\.passwordKey: must be a Secret key .*\(got "a\/b"\)/);
    expect(problems({ auth: { secretName: 's', password: 'hunter2' } })[0]).toMatch(/relay\.auth\.password: unknown field "password"/);
  });
});
