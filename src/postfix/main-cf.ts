import type { EnvironmentConfig } from '../config/schema';
import { loadBalancerRanges } from '../config/sections/service';
import { DRAIN_REFUSE_RESTRICTION } from './drain';
import { PATHS } from './layout';
import { extraValue } from '../config/sections/postfix';
import { rewriteEntries } from './rewrite';
import { saslEntries } from './sasl';

/**
 * main.cf as an ordered list of entries rather than one template string: unit tests assert on
 * single parameters, and the integration harness overrides a parameter by commenting out the
 * rendered line (see `overrideMainCf`) instead of appending a duplicate definition, which makes
 * every daemon log "overriding earlier entry" and can stall smtpd.
 *
 * Never set compile-time paths here (daemon_directory, command_directory, meta_directory,
 * shlib_directory): they differ between the Alpine image and Debian, and the same file must run
 * on both.
 */
export type MainCfEntry = readonly [name: string, value: string, why?: string];

/** The main.cf entries for an environment, in file order. */
export function mainCfEntries(env: EnvironmentConfig): MainCfEntry[] {
  const { relay, mail } = env;
  const limits = mail.rateLimits;
  const entries: MainCfEntry[] = [
    ['compatibility_level', '3.6', 'Modern defaults; Postfix 3.6 and later (Debian 12 has 3.7, the Alpine image newer).'],

    // Identity
    ['myhostname', mail.hostname, 'Also the HELO/EHLO name: Google refuses localhost or IP literals.'],
    ['mydomain', mail.domain],
    ['myorigin', '$mydomain'],
    ['smtp_helo_name', '$myhostname'],
    ['smtpd_banner', '$myhostname ESMTP', 'No software name or version in the greeting.'],

    // Relay only: nothing is delivered locally.
    ['mydestination', '', 'Relay only: no domain is final here.'],
    ['relay_domains', ''],
    ['local_recipient_maps', ''],
    ['local_transport', 'error:5.1.1 local delivery is disabled on this relay'],
    ['alias_maps', ''],
    ['alias_database', ''],
    ['biff', 'no'],
    ['append_dot_mydomain', 'no'],
    ['relayhost', `[${relay.host}]:${relay.port}`, 'Brackets: connect to this host, no MX lookup.'],

    // Network
    ['inet_interfaces', 'all'],
    ['inet_protocols', relay.ipVersion, 'Google authenticates the registered egress IPv4 addresses.'],
    relayClientNetworks(env),

    // Paths (emptyDirs or a PVC in the pod)
    ['queue_directory', PATHS.queueDir],
    ['data_directory', PATHS.dataDir],

    // Logging: a file the exporter reads (entrypoint.sh also streams it to stdout for kubectl logs).
    ['syslog_name', 'postfix', 'The exporter parses only postfix/<service>[pid] lines.'],
    ['maillog_file', PATHS.logFile],
    ['maillog_file_prefixes', PATHS.logDir],

    // TLS to the relay
    ['smtp_tls_security_level', relay.tlsSecurityLevel, '`secure` verifies the relay certificate; `encrypt` would accept any certificate.'],
    ['smtp_tls_CAfile', relay.caFile],
    ['smtp_tls_secure_cert_match', relay.host, 'The certificate must name the relay host itself (no subdomains).'],
    ['smtp_tls_verify_cert_match', relay.host],
    ['smtp_tls_servername', relay.host, 'SNI'],
    ['smtp_tls_mandatory_protocols', '>=TLSv1.2'],
    ['smtp_tls_protocols', '>=TLSv1.2'],
    ['smtp_tls_loglevel', '1'],
    [
      'smtp_tls_connection_reuse',
      relay.connectionReuse ? 'yes' : 'no',
      'Reuse TLS connections to the relay through tlsproxy: about 3x the throughput.',
    ],
    ...(relay.port === IMPLICIT_TLS_PORT
      ? [['smtp_tls_wrappermode', 'yes', 'relay.port 465: TLS from the first byte (SMTPS), no STARTTLS; the certificate is still verified at the level above.'] as const]
      : []),
    ...saslEntries(env),

    // Who may send what
    ['smtpd_peername_lookup', 'no', 'Pod IPs have no useful reverse DNS; a lookup per connection only delays the greeting when cluster DNS is slow.'],
    ['disable_vrfy_command', 'yes'],
    ['strict_rfc821_envelopes', 'no'],
    [
      'smtpd_client_restrictions',
      `${DRAIN_REFUSE_RESTRICTION}, permit_mynetworks, ${OUTSIDE_CLIENT}`,
      'Only the client networks in mynetworks may use the relay at all. The first table is empty except while the preStop drain runs: then every session gets 421 at its next RCPT (drain.sh, docs/RELIABILITY.md).',
    ],
    [
      'smtpd_data_restrictions',
      `permit_mynetworks, ${OUTSIDE_CLIENT}`,
      'smtpd accepts RCPT TO:<postmaster> from anyone (RFC 5321) before any restriction: stop such mail at DATA/BDAT.',
    ],
    ['smtpd_relay_restrictions', 'permit_mynetworks, reject_unauth_destination', 'Postfix 3.7 refuses to start without reject_unauth_destination.'],
    ['smtpd_recipient_restrictions', 'reject_non_fqdn_recipient'],
    ['smtpd_sender_restrictions', senderRestrictions(mail.allowedSenderDomains), 'Allowed sender domains (exact match), no null sender.'],
    [
      'parent_domain_matches_subdomains',
      '',
      'The default lets sub.example.com pass an example.com entry of the sender allowlist.',
    ],
    ...rewriteEntries(env),

    // Limits
    ['message_size_limit', String(mail.messageSizeLimitBytes), 'The Gmail relay refuses about 25 MB and above.'],
    ['smtpd_recipient_limit', String(mail.maxRecipientsPerMessage)],
    ['smtp_destination_recipient_limit', String(mail.relayRecipientsPerTransaction), 'The Gmail relay takes at most 100 recipients per transaction.'],
    [
      'default_process_limit',
      String(env.tuning.processLimit),
      'Bounds memory under a burst of clients (about 1.3 MiB a process): further clients wait in the listen queue.',
    ],
    ['default_destination_concurrency_limit', String(env.tuning.relayConcurrency), 'Parallel TLS connections to the relay (all mail goes to one destination).'],
    ...(relay.connectionReuse
      ? [
          [
            'smtp_connection_cache_destinations',
            relay.host,
            'Keep relay connections open between deliveries even without a backlog: else light traffic pays a TLS handshake per message (docs/PERFORMANCE.md). Matched on the host name.',
          ] as const,
        ]
      : []),
    ['anvil_rate_time_unit', '60s'],
    ['smtpd_client_connection_rate_limit', String(limits.connectionsPerMinute), '0 = unlimited.'],
    ['smtpd_client_message_rate_limit', String(limits.messagesPerMinute)],
    ['smtpd_client_recipient_rate_limit', String(limits.recipientsPerMinute)],
    [
      'smtpd_client_event_limit_exceptions',
      '',
      'The default exempts mynetworks, i.e. every client that may relay: the limits apply to them.',
    ],

    // Queue
    [
      'soft_bounce',
      'no',
      mail.softBounce
        ? 'mail.softBounce is on: set on the smtp and relay transports in master.cf, so mail the relay refuses stays queued while clients still get real 5xx refusals (main.cf soft_bounce would turn those into 4xx).'
        : 'Relay refusals bounce to the sender (mail.softBounce is off).',
    ],
    ['maximal_queue_lifetime', postfixDuration(env.queue.maximalQueueLifetime)],
    ['bounce_queue_lifetime', '$maximal_queue_lifetime'],
  ];
  if (mail.holdRelayRefusals) {
    entries.push([
      'smtp_reply_filter',
      HOLD_RELAY_REFUSALS,
      "Gmail's 550 5.7.0 (an egress IP not registered) and 5.4.5 (a sender's daily limit) are problems on our side: as 450 the mail waits in the queue and the alerts fire, instead of bouncing.",
    ]);
  }
  // Last: the escape hatch never precedes (or duplicates) a rendered parameter.
  const extra = Object.entries(env.postfix.extraMainCf);
  extra.forEach(([name, value], i) => {
    entries.push([name, extraValue(value), i === 0 ? `postfix.extraMainCf (${extra.length}): parameters the schema does not model, checked against Postfix's parameter list and the relay's guarded ones.` : undefined]);
  });
  return entries;
}

/** The port on which relays speak TLS from the first byte (RFC 8314 submissions). */
export const IMPLICIT_TLS_PORT = 465;

/** Inline regexp table (Postfix 3.7+) that turns 5xx 5.7.0 / 5.4.5 replies into 450 4.7.0 / 4.4.5. */
// `$$` is a literal `$` in main.cf (a single `$` starts a parameter expansion).
export const HOLD_RELAY_REFUSALS = 'regexp:{ {/^5[0-9][0-9]([ -])5\\.(7\\.0|4\\.5)( .*)?$$/ 450$${1}4.$${2}$${3}} }';

/** The rendered main.cf of an environment. */
export function renderMainCf(env: EnvironmentConfig): string {
  return formatMainCf(mainCfEntries(env), `main.cf for environment "${env.name}"`);
}

export function formatMainCf(entries: readonly MainCfEntry[], title = 'main.cf'): string {
  const lines = [`# ${title}: rendered by src/postfix/main-cf.ts. Do not edit: change the environment file.`];
  for (const [name, value, why] of entries) {
    if (why) lines.push(`# ${why}`);
    lines.push(value === '' ? `${name} =` : `${name} = ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Replaces parameters in a rendered main.cf: each existing definition (and its continuation
 * lines) is commented out and the new value is appended once. Parameters that were not in the
 * file are appended too. Pure; used by the integration harness.
 */
export function overrideMainCf(text: string, overrides: Readonly<Record<string, string>>, title = 'overrides'): string {
  const names = new Set(Object.keys(overrides));
  const out: string[] = [];
  let inOverridden = false;
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const m = /^([A-Za-z0-9_]+)\s*=/.exec(line);
    if (m) inOverridden = names.has(m[1]!);
    else if (!/^\s+\S/.test(line)) inOverridden = false;
    out.push(inOverridden ? `#${line}` : line);
  }
  out.push(`# ${title}`);
  for (const [name, value] of Object.entries(overrides)) out.push(value === '' ? `${name} =` : `${name} = ${value}`);
  return `${out.join('\n')}\n`;
}

/** Refusal of a client outside mynetworks; the text names the setting that decides it. */
const OUTSIDE_CLIENT = 'check_client_access static:{REJECT 5.7.1 Relay access denied: client address not in network.mynetworks}';

function senderRestrictions(domains: readonly string[]): string {
  const allowed = domains.map((d) => `${d}=OK`).join(', ');
  return [
    'reject_non_fqdn_sender',
    `check_sender_access inline:{{<>=REJECT 5.7.1 The null sender is not accepted by this relay}, ${allowed}}`,
    `check_sender_access static:{REJECT 5.7.1 Sender domain not allowed by this relay (allowed: ${domains.join(' ')})}`,
  ].join(', ');
}

/**
 * mynetworks: the cluster's client networks, plus the LoadBalancer's client ranges when the
 * Service is one (the same ranges the Service and the NetworkPolicy admit, nothing wider).
 */
function relayClientNetworks(env: EnvironmentConfig): MainCfEntry {
  const lb = loadBalancerRanges(env).filter((r) => !env.network.mynetworks.includes(r));
  if (!lb.length) return ['mynetworks', env.network.mynetworks.map(postfixCidr).join(', '), 'Clients allowed to relay: the cluster networks, never 0.0.0.0/0.'];
  return [
    'mynetworks',
    [...env.network.mynetworks, ...lb].map(postfixCidr).join(', '),
    'Clients allowed to relay: the cluster networks, then the clients outside the cluster that the LoadBalancer admits (service.loadBalancerSourceRanges); never 0.0.0.0/0.',
  ];
}

/** mynetworks wants IPv6 networks as [addr]/len. */
function postfixCidr(cidr: string): string {
  const [addr, len] = cidr.split('/');
  return addr!.includes(':') ? `[${addr}]/${len}` : cidr;
}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** Prometheus-style durations ("5d", "1h30m") to a Postfix time value ("5d", "5400s"). */
export function postfixDuration(duration: string): string {
  const parts = [...duration.matchAll(/([0-9]+)(ms|s|m|h|d)/g)];
  if (parts.length === 1 && parts[0]![2] !== 'ms') return duration;
  const seconds = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_SECONDS[unit!]!, 0);
  return `${Math.max(1, Math.ceil(seconds))}s`;
}
