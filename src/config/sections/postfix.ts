import { z } from 'zod';
import { POSTCONF_GENERATION, POSTCONF_PARAMETERS } from '../../postfix/postconf-parameters';

/**
 * `postfix.extraMainCf`: main.cf parameters the schema does not model (header_size_limit,
 * smtputf8_enable, ...). Each name must be a parameter of the image's Postfix generation (the
 * committed `postconf -d` list), and none may touch what the relay guarantees: those are refused
 * with the schema field that decides them.
 */

const value = z.union([z.string(), z.number(), z.boolean()]);

export const postfixSchema = z
  .object({
    extraMainCf: z
      .record(z.string(), value)
      .default({})
      .describe(
        `Escape hatch: more main.cf parameters, appended after the rendered ones (booleans become yes/no). Each name must be a parameter of Postfix ${POSTCONF_GENERATION} (the image's generation); parameters the relay sets or relies on (relayhost, mynetworks, smtpd_*_restrictions, smtp_tls_*, smtp_sasl_*, *_directory, maillog_file, inet_interfaces, ...) are refused with the field to use instead (docs/POLICIES.md). Values may use $name references.`,
      ),
  })
  .strict();

/** What a guarded parameter name matches, and what to say about it. */
interface Guard {
  /** Exact names or `*` globs. */
  readonly names: readonly string[];
  /** The schema field(s) that decide it, when there is one. */
  readonly use?: string;
  /** Why the relay keeps it: said when no field decides it. */
  readonly why: string;
}

/**
 * Parameters postfix.extraMainCf may not set, first match wins. Every parameter main-cf.ts can
 * render is here (test/postfix/extra-main-cf.test.ts renders every feature and checks), plus
 * those that would bypass the relay's guarantees from the side.
 */
export const GUARDED_PARAMETERS: readonly Guard[] = [
  { names: ['relayhost', 'relay_transport', 'default_transport', 'transport_maps', 'smtp_fallback_relay', 'sender_dependent_*', 'content_filter', '*milters', 'milter_*'], use: 'relay.host and relay.port', why: 'every message goes to the one relay, over verified TLS' },
  { names: ['smtp_tls_wrappermode'], use: 'relay.port (465)', why: 'TLS from the first byte follows the relay port' },
  { names: ['smtp_tls_security_level', 'smtp_use_tls', 'smtp_enforce_tls', 'smtp_tls_enforce_peername', 'smtp_tls_policy_maps'], use: 'relay.tlsSecurityLevel', why: 'TLS to the relay is verified' },
  { names: ['smtp_tls_CAfile', 'smtp_tls_CApath', 'tls_append_default_CA'], use: 'relay.caFile', why: 'the relay is verified against one CA bundle' },
  { names: ['smtp_tls_connection_reuse', 'smtp_connection_cache_destinations'], use: 'relay.connectionReuse', why: 'TLS connection reuse (and keeping relay connections open under light traffic)' },
  { names: ['smtp_tls_*', 'tlsproxy_*'], use: 'relay.host and relay.tlsSecurityLevel', why: 'the TLS to the relay (names, protocols, tlsproxy\'s copy of them) is rendered from these' },
  { names: ['smtp_sasl_*', 'debug_peer_*'], use: 'relay.auth', why: 'the relay login (debug_peer_* would write it into the log)' },
  { names: ['smtpd_sender_restrictions', 'parent_domain_matches_subdomains'], use: 'mail.allowedSenderDomains', why: 'the sender allowlist' },
  { names: ['smtpd_sasl_*', 'smtpd_authorized_*', 'smtpd_upstream_proxy_*'], use: 'network.mynetworks', why: 'clients are judged by their own address' },
  { names: ['mynetworks', 'mynetworks_style', 'inet_interfaces', 'smtpd_*_restrictions'], use: 'network.mynetworks', why: 'only the cluster may relay' },
  { names: ['inet_protocols'], use: 'relay.ipVersion', why: 'the address family Google sees' },
  { names: ['myhostname', 'smtp_helo_name', 'smtpd_banner'], use: 'mail.hostname', why: 'the HELO name Google checks' },
  { names: ['mydomain', 'myorigin'], use: 'mail.domain', why: 'the Workspace domain' },
  { names: ['message_size_limit'], use: 'mail.messageSizeLimitBytes', why: 'the Gmail size limit' },
  { names: ['smtpd_recipient_limit'], use: 'mail.maxRecipientsPerMessage', why: 'recipients per message' },
  { names: ['*_destination_recipient_limit'], use: 'mail.relayRecipientsPerTransaction', why: 'the Gmail limit per transaction, for every transport' },
  { names: ['smtp_reply_filter'], use: 'mail.holdRelayRefusals', why: 'Gmail refusals held in the queue' },
  { names: ['soft_bounce'], use: 'mail.softBounce', why: 'soft bounces on the delivery transports only' },
  { names: ['smtpd_client_connection_rate_limit', 'smtpd_client_message_rate_limit', 'smtpd_client_recipient_rate_limit', 'anvil_rate_time_unit', 'smtpd_client_event_limit_exceptions'], use: 'mail.rateLimits', why: 'per-client rate limits, for every client' },
  { names: ['sender_canonical_*', 'masquerade_*', 'local_header_rewrite_clients', 'canonical_*', 'remote_header_rewrite_domain'], use: 'mail.rewrite', why: 'sender rewriting after the allowlist' },
  { names: ['smtp_header_checks', 'smtp_*_checks', 'header_checks', 'body_checks', 'mime_header_checks', 'nested_header_checks'], use: 'mail.stripReceivedHeaders (and mail.rewrite)', why: 'header checks can redirect or discard mail' },
  { names: ['default_process_limit'], use: 'tuning.processLimit', why: 'the memory bound of a pod' },
  { names: ['*_destination_concurrency_limit'], use: 'tuning.relayConcurrency', why: 'parallel connections to the relay, for every transport' },
  { names: ['maximal_queue_lifetime', 'bounce_queue_lifetime'], use: 'queue.maximalQueueLifetime', why: 'how long mail is retried' },
  { names: ['*_directory', '*_path', 'mail_owner', 'setgid_group', 'default_privs', 'master_service_disable'], why: 'paths, users and services are those of the pod and the image' },
  { names: ['syslog_name', 'syslog_facility', 'maillog_file', 'maillog_file_*', 'postlog_*', 'postlogd_*'], why: 'the exporter reads the log file as rendered, and kubectl logs streams it' },
  { names: ['compatibility_level', 'mydestination', 'relay_domains', 'local_recipient_maps', 'local_transport', 'alias_maps', 'alias_database', 'biff', 'append_dot_mydomain', 'smtpd_peername_lookup', 'disable_vrfy_command', 'strict_rfc821_envelopes'], why: 'the relay delivers nothing locally and keeps these as rendered' },
];

const globRegex = (glob: string) => new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[A-Za-z0-9_]*')}$`);
const COMPILED = GUARDED_PARAMETERS.map((g) => ({ ...g, regex: g.names.map(globRegex) }));

/** The guard that refuses a parameter name, if any. */
export function guardOf(name: string): Guard | undefined {
  return COMPILED.find((g) => g.regex.some((r) => r.test(name)));
}

/** The main.cf text of an extra value: booleans as yes/no. */
export function extraValue(v: string | number | boolean): string {
  return typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
}

/** The known parameter nearest to a misspelt one (edit distance at most 3). */
function nearest(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of POSTCONF_PARAMETERS) {
    const d = distance(name, candidate, bestDistance);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string, cap: number): number {
  if (Math.abs(a.length - b.length) >= cap) return cap;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

interface PostfixEnv {
  readonly postfix: { readonly extraMainCf: Readonly<Record<string, string | number | boolean>> };
}

/** Checks of postfix.extraMainCf; called from the schema's superRefine. */
export function checkExtraMainCf(env: PostfixEnv, issue: (path: (string | number)[], message: string) => void): void {
  for (const [name, v] of Object.entries(env.postfix.extraMainCf)) {
    const path = ['postfix', 'extraMainCf', name];
    if (!POSTCONF_PARAMETERS.has(name)) {
      const hint = nearest(name);
      issue(path, `"${name}" is not a parameter of Postfix ${POSTCONF_GENERATION} (postconf -d)${hint ? `; did you mean ${hint}?` : ''}`);
      continue;
    }
    const guard = guardOf(name);
    if (guard) {
      issue(
        path,
        guard.use
          ? `"${name}" is set by the relay (${guard.why}): use ${guard.use} instead`
          : `"${name}" cannot be overridden: ${guard.why}`,
      );
      continue;
    }
    const text = extraValue(v);
    if (text !== text.trim()) issue(path, 'must not start or end with white space (Postfix would drop it)');
  }
}
