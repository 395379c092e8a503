import { describe, expect, it } from 'vitest';
import { parseEnvironment } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { mainCfEntries } from '../../src/postfix/main-cf';

const environment = (mail: Record<string, unknown> = {}): EnvironmentConfig =>
  parseEnvironment(
    {
      namespace: 'email-server-test',
      mail: { hostname: 'mail.example.com', domain: 'example.com', allowedSenderDomains: ['example.com', 'apps.example.com'], ...mail },
    },
    'environments/test.yaml',
  );
const params = (env: EnvironmentConfig) => new Map(mainCfEntries(env).map(([n, v]) => [n, v]));
const problems = (mail: Record<string, unknown>) => {
  try {
    environment(mail);
    return [];
  } catch (e) {
    return (e as Error).message.split('\n').map((l) => l.replace(/^environments\/test\.yaml: /, ''));
  }
};

const REWRITE_PARAMS = ['sender_canonical_maps', 'sender_canonical_classes', 'masquerade_domains', 'masquerade_classes', 'local_header_rewrite_clients', 'header_checks', 'smtp_header_checks'];

describe('mail.rewrite in main.cf', () => {
  it('renders nothing by default (Postfix defaults: no rewriting, headers kept)', () => {
    const p = params(environment());
    for (const n of REWRITE_PARAMS) expect(p.has(n), n).toBe(false);
  });

  it('maps exact addresses and whole domains, lower-cased, envelope and header senders, for cluster clients', () => {
    const p = params(environment({ rewrite: { senders: [{ from: 'NoReply@Example.com', to: 'Relay@example.com' }, { from: '@apps.example.com', to: 'relay@example.com' }] } }));
    expect(p.get('sender_canonical_maps')).toBe('inline:{ noreply@example.com=relay@example.com, @apps.example.com=relay@example.com }');
    expect(p.get('sender_canonical_classes')).toBe('envelope_sender, header_sender');
    expect(p.get('local_header_rewrite_clients')).toBe('permit_mynetworks');
    expect(p.has('masquerade_domains')).toBe(false);
  });

  it('keeps Reply-To out of the rewriting: hidden by header_checks, restored by smtp_header_checks', () => {
    const p = params(environment({ rewrite: { senders: [{ from: '@apps.example.com', to: 'relay@example.com' }] } }));
    expect(p.get('header_checks')).toBe('regexp:{ {/^Reply-To:(.*)$$/ REPLACE X-Relay-Original-Reply-To:$${1}} }');
    expect(p.get('smtp_header_checks')).toBe('regexp:{ {/^X-Relay-Original-Reply-To:(.*)$$/ REPLACE Reply-To:$${1}} }');
  });

  it('masquerades subdomains of the listed domains, senders only', () => {
    const p = params(environment({ rewrite: { masqueradeDomains: ['example.com'] } }));
    expect(p.get('masquerade_domains')).toBe('example.com');
    expect(p.get('masquerade_classes')).toBe('envelope_sender, header_sender');
    expect(p.get('local_header_rewrite_clients')).toBe('permit_mynetworks');
    expect(p.has('sender_canonical_maps')).toBe(false);
  });

  it('keeps the allowlist on the address the client sent (smtpd_sender_restrictions unchanged)', () => {
    const plain = params(environment());
    const rewriting = params(environment({ rewrite: { senders: [{ from: '@apps.example.com', to: 'relay@example.com' }] } }));
    expect(rewriting.get('smtpd_sender_restrictions')).toBe(plain.get('smtpd_sender_restrictions'));
  });
});

describe('mail.stripReceivedHeaders in main.cf', () => {
  it('removes this relay\'s own Received: header (matched by mail.hostname)', () => {
    expect(params(environment({ stripReceivedHeaders: 'relay' })).get('smtp_header_checks')).toBe(
      'regexp:{ {/^Received: from .*[[:space:]]by mail\\.example\\.com \\(Postfix\\)/ IGNORE} }',
    );
  });

  it('removes every Received: header', () => {
    expect(params(environment({ stripReceivedHeaders: 'all' })).get('smtp_header_checks')).toBe('regexp:{ {/^Received:/ IGNORE} }');
  });

  it('shares smtp_header_checks with the Reply-To restore', () => {
    const p = params(environment({ stripReceivedHeaders: 'all', rewrite: { masqueradeDomains: ['example.com'] } }));
    expect(p.get('smtp_header_checks')).toBe('regexp:{ {/^X-Relay-Original-Reply-To:(.*)$$/ REPLACE Reply-To:$${1}}, {/^Received:/ IGNORE} }');
  });

  it('refuses other values', () => {
    expect(problems({ stripReceivedHeaders: 'yes' })).toEqual(['mail.stripReceivedHeaders: must be one of "none", "relay", "all" (got "yes")']);
  });
});

describe('mail.rewrite validation', () => {
  it('refuses a rule for a sender domain the allowlist refuses (it could never apply)', () => {
    expect(problems({ rewrite: { senders: [{ from: '@gmail.com', to: 'relay@example.com' }] } })).toEqual([
      'mail.rewrite.senders.0.from: gmail.com is not in mail.allowedSenderDomains (example.com, apps.example.com): the relay refuses that sender before any rewriting, so this rule would never apply (got "@gmail.com")',
    ]);
  });

  it('refuses a target outside the Workspace domains, a repeated rule and a bad address', () => {
    expect(problems({ rewrite: { senders: [{ from: 'a@example.com', to: 'relay@gmail.com' }] } })).toEqual([
      'mail.rewrite.senders.0.to: gmail.com is neither mail.domain nor in mail.allowedSenderDomains: rewrite to a registered user of your Workspace (got "relay@gmail.com")',
    ]);
    expect(problems({ rewrite: { senders: [{ from: 'a@example.com', to: 'r@example.com' }, { from: 'A@example.com', to: 's@example.com' }] } })).toEqual([
      'mail.rewrite.senders.1.from: a@example.com is already rewritten by mail.rewrite.senders.0 (got "A@example.com")',
    ]);
    expect(problems({ rewrite: { senders: [{ from: 'example.com', to: 'r@example.com' }] } })).toEqual([
      'mail.rewrite.senders.0.from: must be an address (app@example.com) or a whole domain (@example.com) (got "example.com")',
    ]);
    expect(problems({ rewrite: { senders: [{ from: '@example.com', to: '@example.com' }] } })).toEqual([
      'mail.rewrite.senders.0.to: must be an e-mail address such as relay@example.com (got "@example.com")',
    ]);
  });

  it('refuses masquerading to a domain outside the Workspace domains', () => {
    expect(problems({ rewrite: { masqueradeDomains: ['other.org'] } })).toEqual([
      'mail.rewrite.masqueradeDomains.0: other.org is neither mail.domain nor in mail.allowedSenderDomains: masquerading would produce senders Google does not accept (got "other.org")',
    ]);
  });
});
