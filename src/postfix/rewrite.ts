import type { EnvironmentConfig } from '../config/schema';
import type { MainCfEntry } from './main-cf';

/**
 * main.cf for mail.rewrite (sender rewriting) and mail.stripReceivedHeaders (header privacy).
 * Rewriting is cleanup's work, after smtpd has judged the sender the client sent: the allowlist
 * (smtpd_sender_restrictions) never sees a rewritten address.
 */
export function rewriteEntries(env: EnvironmentConfig): MainCfEntry[] {
  const { senders, masqueradeDomains } = env.mail.rewrite;
  const out: MainCfEntry[] = [];
  if (senders.length > 0) {
    out.push(
      [
        'sender_canonical_maps',
        `inline:{ ${senders.map((r) => `${r.from}=${r.to}`).join(', ')} }`,
        'mail.rewrite.senders: an exact address is looked up before its @domain.',
      ],
      ['sender_canonical_classes', 'envelope_sender, header_sender', 'Envelope sender and From:, Sender: and the other sender headers (Reply-To: is kept, see header_checks); never recipients.'],
    );
  }
  if (masqueradeDomains.length > 0) {
    out.push(
      ['masquerade_domains', masqueradeDomains.join(', '), 'mail.rewrite.masqueradeDomains: app@host.sub.example.com becomes app@example.com.'],
      ['masquerade_classes', 'envelope_sender, header_sender', 'Senders only: recipient addresses stay as the client wrote them.'],
    );
  }
  const rewriting = out.length > 0;
  if (rewriting) {
    out.push(
      [
        'local_header_rewrite_clients',
        'permit_mynetworks',
        "Postfix rewrites message headers only for 'local' clients: the cluster's clients are, so header From: is rewritten too.",
      ],
      [
        'header_checks',
        `regexp:{ {${HIDE_REPLY_TO}} }`,
        'Postfix counts Reply-To: as a sender header: hide it from the rewriting (smtp_header_checks restores it), so replies reach the address the application chose.',
      ],
    );
  }
  const strip = env.mail.stripReceivedHeaders;
  const smtpChecks = [...(rewriting ? [RESTORE_REPLY_TO] : []), ...(strip === 'all' ? [STRIP_ALL_RECEIVED] : strip === 'relay' ? [stripOwnReceived(env.mail.hostname)] : [])];
  if (smtpChecks.length > 0) {
    const why = [
      ...(rewriting ? ['Reply-To: restored as the client wrote it.'] : []),
      ...(strip === 'all' ? ['mail.stripReceivedHeaders all: no Received: header leaves the cluster (pod IPs and host names stay inside).'] : []),
      ...(strip === 'relay' ? ["mail.stripReceivedHeaders relay: this relay's own Received: header (client pod IP and HELO name) is removed as mail leaves."] : []),
    ];
    out.push(['smtp_header_checks', `regexp:{ ${smtpChecks.map((r) => `{${r}}`).join(', ')} }`, why.join(' ')]);
  }
  return out;
}

/** Header name that carries Reply-To: from cleanup (before rewriting) to the smtp client. */
export const REPLY_TO_CARRIER = 'X-Relay-Original-Reply-To';
// `$$` is a literal `$` in main.cf.
const HIDE_REPLY_TO = `/^Reply-To:(.*)$$/ REPLACE ${REPLY_TO_CARRIER}:$\${1}`;
const RESTORE_REPLY_TO = `/^${REPLY_TO_CARRIER}:(.*)$$/ REPLACE Reply-To:$\${1}`;

/** Every Received: header, removed as the mail leaves (smtp_header_checks: delivery only). */
export const STRIP_ALL_RECEIVED = '/^Received:/ IGNORE';

/**
 * The Received: header this relay adds: `Received: from <helo> (<name> [<ip>])\n\tby <myhostname>
 * (Postfix) with ...`. A header_checks pattern sees a folded header as one string (newlines
 * included; `.` matches them outside the `m` flag).
 */
export function stripOwnReceived(hostname: string): string {
  return `/^Received: from .*[[:space:]]by ${hostname.replace(/\./g, '\\.')} \\(Postfix\\)/ IGNORE`;
}
