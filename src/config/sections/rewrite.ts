import { z } from 'zod';
import { domainName } from '../formats';

/**
 * `mail.rewrite` (sender rewriting for Workspace's "Only registered Apps users") and
 * `mail.stripReceivedHeaders` (header privacy). Rewriting happens after smtpd has accepted the
 * sender: the allowlist (mail.allowedSenderDomains) always judges what the client sent.
 */

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;

/** `user@domain`, lower-cased. */
const address = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(
    z.string().refine((s) => {
      const at = s.lastIndexOf('@');
      return at > 0 && LOCAL_PART.test(s.slice(0, at)) && domainName.safeParse(s.slice(at + 1)).success;
    }, { message: 'must be an e-mail address such as relay@example.com' }),
  );

/** `user@domain`, or `@domain` for every sender of that domain, lower-cased. */
const senderPattern = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(
    z.string().refine((s) => {
      const at = s.lastIndexOf('@');
      return at >= 0 && (at === 0 || LOCAL_PART.test(s.slice(0, at))) && domainName.safeParse(s.slice(at + 1)).success;
    }, { message: 'must be an address (app@example.com) or a whole domain (@example.com)' }),
  );

export const rewriteSchema = z
  .object({
    senders: z
      .array(
        z
          .object({
            from: senderPattern.describe('What the client sent: an address (`app@example.com`) or a whole domain (`@example.com`). Its domain must be in mail.allowedSenderDomains.'),
            to: address.describe('The registered Workspace address it becomes (a domain of mail.domain or mail.allowedSenderDomains).'),
          })
          .strict(),
      )
      .default([])
      .describe(
        'sender_canonical_maps: envelope sender and header sender addresses (From:, Sender:, ...) of relayed mail are rewritten to a registered address. An exact address wins over its domain. The allowlist still judges the address the client sent.',
      ),
    masqueradeDomains: z
      .array(domainName)
      .default([])
      .describe(
        'masquerade_domains: sender addresses in a subdomain of one of these domains lose the subdomain (app@pod.apps.example.com becomes app@example.com); envelope and header senders only, recipients untouched. Each must be mail.domain or in mail.allowedSenderDomains.',
      ),
  })
  .strict();

export const stripReceivedHeadersSchema = z
  .enum(['none', 'relay', 'all'])
  .default('none')
  .describe(
    'smtp_header_checks: remove Received: headers from relayed mail as it leaves. `relay`: the one this relay adds (it names the client pod\'s IP and HELO name); `all`: every Received: header, also those added by mail servers inside the cluster before this relay. Google still adds its own.',
  );

export type MailRewrite = z.output<typeof rewriteSchema>;

interface RewriteEnv {
  readonly mail: { readonly domain: string; readonly allowedSenderDomains: readonly string[]; readonly rewrite: MailRewrite };
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);

/** Cross-field checks of mail.rewrite; called from the schema's superRefine. */
export function checkRewrite(env: RewriteEnv, issue: (path: (string | number)[], message: string) => void): void {
  const { rewrite, allowedSenderDomains, domain } = env.mail;
  const allowed = new Set(allowedSenderDomains);
  const registered = new Set([domain, ...allowedSenderDomains]);
  const seen = new Map<string, number>();
  rewrite.senders.forEach((rule, i) => {
    const from = domainOf(rule.from);
    if (!allowed.has(from)) {
      issue(
        ['mail', 'rewrite', 'senders', i, 'from'],
        `${from} is not in mail.allowedSenderDomains (${allowedSenderDomains.join(', ')}): the relay refuses that sender before any rewriting, so this rule would never apply`,
      );
    }
    if (!registered.has(domainOf(rule.to))) {
      issue(
        ['mail', 'rewrite', 'senders', i, 'to'],
        `${domainOf(rule.to)} is neither mail.domain nor in mail.allowedSenderDomains: rewrite to a registered user of your Workspace`,
      );
    }
    const first = seen.get(rule.from);
    if (first !== undefined) issue(['mail', 'rewrite', 'senders', i, 'from'], `${rule.from} is already rewritten by mail.rewrite.senders.${first}`);
    else seen.set(rule.from, i);
  });
  rewrite.masqueradeDomains.forEach((d, i) => {
    if (!registered.has(d)) {
      issue(['mail', 'rewrite', 'masqueradeDomains', i], `${d} is neither mail.domain nor in mail.allowedSenderDomains: masquerading would produce senders Google does not accept`);
    }
  });
}
