import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { guardOf, GUARDED_PARAMETERS } from '../../src/config/sections/postfix';
import { mainCfEntries, renderMainCf } from '../../src/postfix/main-cf';
import { POSTCONF_GENERATION, POSTCONF_PARAMETERS, POSTCONF_VERSION } from '../../src/postfix/postconf-parameters';

const environment = (extra: Record<string, unknown> = {}, more: Record<string, unknown> = {}): EnvironmentConfig =>
  parseEnvironment(
    {
      namespace: 'email-server-test',
      mail: { hostname: 'mail.example.com', domain: 'example.com', allowedSenderDomains: ['example.com', 'apps.example.com'] },
      postfix: { extraMainCf: extra },
      ...more,
    },
    'environments/test.yaml',
  );

const problems = (extra: Record<string, unknown>) => {
  try {
    environment(extra);
    return [];
  } catch (e) {
    return (e as Error).message.split('\n').map((l) => l.replace(/^environments\/test\.yaml: /, ''));
  }
};

/** Every feature on: the renderer emits every parameter it can. */
const everything = environment({}, {
  relay: { port: 465, auth: { secretName: 'relay' } },
  mail: {
    hostname: 'mail.example.com',
    domain: 'example.com',
    allowedSenderDomains: ['example.com', 'apps.example.com'],
    softBounce: true,
    rewrite: { senders: [{ from: '@apps.example.com', to: 'relay@example.com' }], masqueradeDomains: ['example.com'] },
    stripReceivedHeaders: 'all',
  },
});

describe('the committed postconf -d list', () => {
  it('is Postfix 3.10 (the image\'s generation), complete', () => {
    expect(POSTCONF_GENERATION).toBe('3.10');
    expect(POSTCONF_VERSION).toMatch(/^3\.10\.\d+$/);
    expect(POSTCONF_PARAMETERS.size).toBeGreaterThan(800);
    for (const n of ['header_size_limit', 'smtputf8_enable', 'relay_destination_rate_delay', 'smtp_tls_wrappermode', 'smtp_sasl_mechanism_filter']) expect(POSTCONF_PARAMETERS.has(n), n).toBe(true);
  });

  it('holds every parameter the renderer can emit (so main.cf only sets what Postfix 3.10 knows)', () => {
    const unknown = mainCfEntries(everything).map(([n]) => n).filter((n) => !POSTCONF_PARAMETERS.has(n));
    expect(unknown).toEqual([]);
  });
});

describe('postfix.extraMainCf', () => {
  it('lands last in main.cf, after every rendered parameter, booleans as yes/no', () => {
    const text = renderMainCf(environment({ header_size_limit: 204800, smtputf8_enable: false, delay_warning_time: '4h', smtp_connection_cache_time_limit: '$smtp_connect_timeout' }));
    const tail = text.trimEnd().split('\n').slice(-4);
    expect(tail).toEqual(['header_size_limit = 204800', 'smtputf8_enable = no', 'delay_warning_time = 4h', 'smtp_connection_cache_time_limit = $smtp_connect_timeout']);
    expect(text).toMatch(/# postfix\.extraMainCf \(4\): [^\n]*\nheader_size_limit = 204800\n/);
  });

  it('renders nothing by default', () => {
    expect(renderMainCf(environment())).not.toContain('extraMainCf');
  });

  it('refuses a name Postfix 3.10 does not know, suggesting the nearest', () => {
    expect(problems({ header_size_limt: 1 })).toEqual([
      'postfix.extraMainCf.header_size_limt: "header_size_limt" is not a parameter of Postfix 3.10 (postconf -d); did you mean header_size_limit? (got 1)',
    ]);
    expect(problems({ frobnicate_everything: 'yes' })).toEqual(['postfix.extraMainCf.frobnicate_everything: "frobnicate_everything" is not a parameter of Postfix 3.10 (postconf -d) (got "yes")']);
  });

  it.each([
    ['mynetworks', '0.0.0.0/0', 'network.mynetworks'],
    ['relayhost', '[evil.example]:25', 'relay.host and relay.port'],
    ['smtpd_relay_restrictions', 'permit', 'network.mynetworks'],
    ['smtpd_recipient_restrictions', 'permit', 'network.mynetworks'],
    ['smtpd_sender_restrictions', 'permit', 'mail.allowedSenderDomains'],
    ['smtp_tls_security_level', 'may', 'relay.tlsSecurityLevel'],
    ['smtp_tls_ciphers', 'low', 'relay.host and relay.tlsSecurityLevel'],
    ['tlsproxy_client_security_level', 'may', 'relay.host and relay.tlsSecurityLevel'],
    ['smtp_sasl_password_maps', 'static:user:pass', 'relay.auth'],
    ['debug_peer_list', '0.0.0.0/0', 'relay.auth'],
    ['inet_interfaces', '0.0.0.0', 'network.mynetworks'],
    ['smtpd_authorized_xclient_hosts', '0.0.0.0/0', 'network.mynetworks'],
    ['relay_destination_recipient_limit', 1000, 'mail.relayRecipientsPerTransaction'],
    ['smtp_destination_concurrency_limit', 200, 'tuning.relayConcurrency'],
    ['message_size_limit', 0, 'mail.messageSizeLimitBytes'],
    ['header_checks', 'regexp:/x', 'mail.stripReceivedHeaders (and mail.rewrite)'],
    ['content_filter', 'smtp:[x]:10025', 'relay.host and relay.port'],
    ['sender_canonical_maps', 'inline:{a=b}', 'mail.rewrite'],
    ['soft_bounce', 'yes', 'mail.softBounce'],
  ])('refuses %s, naming the field to use instead', (name, value, field) => {
    const [line] = problems({ [name]: value });
    expect(line).toMatch(new RegExp(`^postfix\\.extraMainCf\\.${name}: "${name}" is set by the relay \\(.+\\): use ${field.replace(/[.()]/g, '\\$&')} instead \\(got `));
  });

  it.each([
    ['queue_directory', '/tmp'],
    ['daemon_directory', '/usr/lib/postfix'],
    ['maillog_file', '/dev/stdout'],
    ['syslog_name', 'mail'],
    ['mail_owner', 'root'],
    ['mydestination', '$myhostname'],
  ])('refuses %s, which no field changes', (name, value) => {
    expect(problems({ [name]: value })[0]).toMatch(new RegExp(`^postfix\\.extraMainCf\\.${name}: "${name}" cannot be overridden: `));
  });

  it('guards every parameter the renderer can emit: an extra one could only duplicate or contradict it', () => {
    const rendered = mainCfEntries(everything).map(([n]) => n);
    expect(rendered.filter((n) => !guardOf(n))).toEqual([]);
  });

  it('lets through what the relay does not model', () => {
    expect(problems({ header_size_limit: 204800, smtputf8_enable: 'no', delay_warning_time: '4h', smtp_connect_timeout: '20s', bounce_size_limit: 10000, always_bcc: 'audit@example.com' })).toEqual([]);
  });

  it('refuses line breaks (they would start another parameter), surrounding white space, and other value types', () => {
    expect(problems({ header_size_limit: '1\nrelayhost = [evil]' })[0]).toMatch(/^postfix\.extraMainCf\.header_size_limit: must not contain control or invisible characters: U\+000A \(LF\)/);
    expect(problems({ delay_warning_time: ' 4h' })).toEqual(['postfix.extraMainCf.delay_warning_time: must not start or end with white space (Postfix would drop it) (got " 4h")']);
    expect(problems({ delay_warning_time: ['4h'] })[0]).toMatch(/^postfix\.extraMainCf\.delay_warning_time: /);
  });

  it('has guards that all match something Postfix knows (no dead entries)', () => {
    for (const g of GUARDED_PARAMETERS) {
      for (const glob of g.names) {
        const re = new RegExp(`^${glob.replace(/\*/g, '[A-Za-z0-9_]*')}$`);
        expect([...POSTCONF_PARAMETERS].some((n) => re.test(n)), glob).toBe(true);
      }
    }
  });
});
