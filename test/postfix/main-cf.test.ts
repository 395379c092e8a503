import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile, parseEnvironment } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { PATHS } from '../../src/postfix/layout';
import { HOLD_RELAY_REFUSALS, mainCfEntries, overrideMainCf, postfixDuration, renderMainCf } from '../../src/postfix/main-cf';

const ENVS = ['dev', 'staging', 'prod'] as const;
const load = (name: string) => loadEnvironmentFile(`environments/${name}.yaml`);

/** Parameter values as Postfix would read them (last definition wins; comments ignored). */
function params(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)\s*=\s*(.*)$/i.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

const minimal = (extra: Record<string, unknown> = {}, mail: Record<string, unknown> = {}): EnvironmentConfig =>
  parseEnvironment(
    {
      namespace: 'email-server-test',
      mail: { hostname: 'relay.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'], ...mail },
      ...extra,
    },
    'environments/test.yaml',
  );

describe.each(ENVS)('main.cf for %s', (name) => {
  const env = load(name);
  const text = renderMainCf(env);
  const p = params(text);

  it('relays only: nothing is delivered locally', () => {
    expect(p.get('mydestination')).toBe('');
    expect(p.get('relay_domains')).toBe('');
    expect(p.get('local_transport')).toMatch(/^error:5\.\d\.\d /);
    expect(p.get('alias_maps')).toBe('');
    expect(p.get('alias_database')).toBe('');
    expect(p.get('local_recipient_maps')).toBe('');
  });

  it('relays through the configured relay, by name and port, without MX lookup', () => {
    expect(p.get('relayhost')).toBe(`[${env.relay.host}]:${env.relay.port}`);
  });

  it('authenticates the relay over TLS at the configured level against the CA bundle', () => {
    expect(p.get('smtp_tls_security_level')).toBe(env.relay.tlsSecurityLevel);
    expect(p.get('smtp_tls_security_level')).toBe('secure');
    expect(p.get('smtp_tls_CAfile')).toBe('/etc/ssl/certs/ca-certificates.crt');
    expect(p.get('smtp_tls_secure_cert_match')).toBe('smtp-relay.gmail.com');
    expect(p.get('smtp_tls_verify_cert_match')).toBe('smtp-relay.gmail.com');
    expect(p.get('smtp_tls_mandatory_protocols')).toBe('>=TLSv1.2');
    expect(p.has('smtp_use_tls')).toBe(false);
  });

  it('says HELO with the configured FQDN and speaks IPv4 to the relay', () => {
    expect(p.get('myhostname')).toBe(env.mail.hostname);
    expect(p.get('smtp_helo_name')).toBe('$myhostname');
    expect(p.get('mydomain')).toBe('bionicaisolutions.com');
    expect(p.get('inet_protocols')).toBe('ipv4');
  });

  it("holds Gmail's refusals that mean a problem on our side instead of bouncing them", () => {
    expect(p.get('smtp_reply_filter')).toBe(env.mail.holdRelayRefusals ? HOLD_RELAY_REFUSALS : undefined);
  });

  it('bounds the number of Postfix processes (memory) and of connections to the relay', () => {
    expect(p.get('default_process_limit')).toBe(String(env.tuning.processLimit));
    expect(p.get('default_destination_concurrency_limit')).toBe(String(env.tuning.relayConcurrency));
  });

  it('serves and relays for the configured client networks only', () => {
    expect(p.get('mynetworks')).toBe(env.network.mynetworks.join(', '));
    expect(p.get('smtpd_relay_restrictions')).toBe('permit_mynetworks, reject_unauth_destination');
    const outside = 'check_client_access static:{REJECT 5.7.1 Relay access denied: client address not in network.mynetworks}';
    // The drain table comes first: while a pod drains, even mynetworks clients get 421.
    expect(p.get('smtpd_client_restrictions')).toBe(
      `check_client_access proxy:cidr:$data_directory/drain-refuse.cidr, permit_mynetworks, ${outside}`,
    );
    // RCPT TO:<postmaster> bypasses every RCPT-time restriction (RFC 5321): DATA/BDAT stops it.
    expect(p.get('smtpd_data_restrictions')).toBe(`permit_mynetworks, ${outside}`);
  });

  it('accepts exactly the allowed sender domains, not their subdomains, and no null sender', () => {
    const restrictions = p.get('smtpd_sender_restrictions')!;
    for (const d of env.mail.allowedSenderDomains) expect(restrictions).toContain(` ${d}=OK`);
    expect(restrictions).not.toMatch(/[ ,{]\.[^ ,]*=OK/); // a leading dot would admit subdomains
    expect(restrictions).toContain('{<>=REJECT 5.7.1');
    expect(restrictions).toMatch(/static:\{REJECT 5\.7\.1 [^}]*\}$/);
    expect(restrictions).not.toContain('hash:');
    expect(p.get('parent_domain_matches_subdomains')).toBe('');
  });

  it('keeps the Gmail relay limits', () => {
    expect(Number(p.get('message_size_limit'))).toBeLessThanOrEqual(25 * 1024 * 1024);
    expect(Number(p.get('smtp_destination_recipient_limit'))).toBeLessThanOrEqual(100);
    expect(p.get('smtpd_recipient_limit')).toBe(String(env.mail.maxRecipientsPerMessage));
  });

  it('applies the client rate limits to the clients that relay', () => {
    expect(p.get('smtpd_client_message_rate_limit')).toBe(String(env.mail.rateLimits.messagesPerMinute));
    expect(p.get('smtpd_client_recipient_rate_limit')).toBe(String(env.mail.rateLimits.recipientsPerMinute));
    expect(p.get('smtpd_client_connection_rate_limit')).toBe(String(env.mail.rateLimits.connectionsPerMinute));
    expect(p.get('anvil_rate_time_unit')).toBe('60s');
    expect(p.get('smtpd_client_event_limit_exceptions')).toBe('');
  });

  it('keeps smtpd refusals permanent: soft_bounce is never global (master.cf sets it per transport)', () => {
    expect(p.get('soft_bounce')).toBe('no');
  });

  it('logs to the file the exporter reads, as postfix/<service>', () => {
    expect(p.get('maillog_file')).toBe(PATHS.logFile);
    expect(PATHS.logFile.startsWith(`${p.get('maillog_file_prefixes')}/`)).toBe(true);
    expect(p.get('syslog_name')).toBe('postfix');
  });

  it('reuses TLS connections to the relay', () => {
    expect(p.get('smtp_tls_connection_reuse')).toBe('yes');
  });

  it('uses the pod paths and no compile-time paths', () => {
    expect(p.get('queue_directory')).toBe(PATHS.queueDir);
    expect(p.get('data_directory')).toBe(PATHS.dataDir);
    for (const compiled of ['daemon_directory', 'command_directory', 'meta_directory', 'shlib_directory', 'sample_directory', 'html_directory']) {
      expect(p.has(compiled)).toBe(false);
    }
    expect(p.get('compatibility_level')).toBe('3.6');
  });

  it('defines every parameter once (duplicates make daemons log a warning each)', () => {
    const names = mainCfEntries(env).map(([n]) => n);
    expect(new Set(names).size).toBe(names.length);
    expect(text.split('\n').filter((l) => /^[a-z]/.test(l)).length).toBe(names.length);
  });

  it('matches the snapshot', () => {
    expect(text).toMatchSnapshot();
  });
});

describe('main.cf from non-default settings', () => {
  it('renders encrypt only when the environment asks for it explicitly', () => {
    const env = minimal({ relay: { tlsSecurityLevel: 'encrypt', allowUnverifiedTls: true } });
    expect(params(renderMainCf(env)).get('smtp_tls_security_level')).toBe('encrypt');
  });

  it('follows relay host, port, CA file, IP version and connection reuse', () => {
    const env = minimal({
      relay: { host: 'relay.example.net', port: 2525, caFile: '/etc/ssl/own.pem', ipVersion: 'all', connectionReuse: false },
    });
    const p = params(renderMainCf(env));
    expect(p.get('relayhost')).toBe('[relay.example.net]:2525');
    expect(p.get('smtp_tls_CAfile')).toBe('/etc/ssl/own.pem');
    expect(p.get('smtp_tls_secure_cert_match')).toBe('relay.example.net');
    expect(p.get('smtp_tls_servername')).toBe('relay.example.net');
    expect(p.get('inet_protocols')).toBe('all');
    expect(p.get('smtp_tls_connection_reuse')).toBe('no');
  });

  it('writes IPv6 client networks the way mynetworks wants them', () => {
    const env = minimal({ network: { clusterCidrs: ['10.0.0.0/8', 'fd00::/8'], mynetworks: ['10.1.0.0/16', 'fd00:10::/64'] } });
    expect(params(renderMainCf(env)).get('mynetworks')).toBe('10.1.0.0/16, [fd00:10::]/64');
  });

  it('renders size, recipient and rate limits, and 0 as unlimited', () => {
    const env = minimal(
      {},
      {
        messageSizeLimitBytes: 10_000_000,
        maxRecipientsPerMessage: 50,
        relayRecipientsPerTransaction: 20,
        rateLimits: { connectionsPerMinute: 0, messagesPerMinute: 30, recipientsPerMinute: 300 },
      },
    );
    const p = params(renderMainCf(env));
    expect(p.get('message_size_limit')).toBe('10000000');
    expect(p.get('smtpd_recipient_limit')).toBe('50');
    expect(p.get('smtp_destination_recipient_limit')).toBe('20');
    expect(p.get('smtpd_client_connection_rate_limit')).toBe('0');
    expect(p.get('smtpd_client_message_rate_limit')).toBe('30');
    expect(p.get('smtpd_client_recipient_rate_limit')).toBe('300');
  });

  it('lists several allowed domains in the allowlist and the refusal text', () => {
    const env = minimal({}, { allowedSenderDomains: ['example.com', 'example.org'] });
    const r = params(renderMainCf(env)).get('smtpd_sender_restrictions')!;
    expect(r).toContain('example.com=OK, example.org=OK}');
    expect(r).toContain('(allowed: example.com example.org)');
  });

  it('converts queue lifetimes to Postfix time values', () => {
    expect(params(renderMainCf(minimal({ queue: { maximalQueueLifetime: '2d' } }))).get('maximal_queue_lifetime')).toBe('2d');
    expect(postfixDuration('5d')).toBe('5d');
    expect(postfixDuration('90m')).toBe('90m');
    expect(postfixDuration('1h30m')).toBe('5400s');
    expect(postfixDuration('1d12h')).toBe('129600s');
    expect(postfixDuration('1500ms')).toBe('2s');
  });
});

describe('overrideMainCf', () => {
  const text = 'a = 1\nb = x,\n  y\n# b = comment\nc = 3\n';

  it('comments out the original definition and its continuation lines, then appends once', () => {
    const out = overrideMainCf(text, { b: 'z', d: '' }, 'test');
    expect(out).toBe('a = 1\n#b = x,\n#  y\n# b = comment\nc = 3\n# test\nb = z\nd =\n');
    expect(params(out).get('b')).toBe('z');
  });

  it('leaves the text alone apart from the appended block when nothing matches', () => {
    expect(overrideMainCf(text, {}, 't')).toBe(`${text}# t\n`);
  });
});
