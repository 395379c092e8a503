import { stringify } from 'yaml';
import type { EnvironmentConfig } from '../config/schema';
import { RELAY_NAME, SMTP_PORT } from '../postfix/layout';

/**
 * The blackbox exporter module the Probe uses, and where the probe points. The module holds the
 * SMTP conversation an application holds, up to the point where mail would be sent:
 *
 *   banner 220, EHLO -> 250, MAIL FROM -> 250, RCPT TO -> 250, RSET -> 250, QUIT -> 221
 *
 * RCPT is where the relay says no: the preStop drain refuses every session with 421 at its next
 * RCPT (src/postfix/drain.ts), and a client outside mynetworks gets 554 there too. A probe that
 * stopped at EHLO would call a draining or misconfigured relay healthy. No DATA is sent: nothing
 * is queued, relayed or counted as mail.
 *
 * Every line sent ends in "\r" (the exporter adds "\n"): without the CR some SMTP servers never
 * answer (Postfix's smtp-sink among them).
 */

/** One step of a blackbox `tcp` prober's query_response. */
export type QueryStep = { readonly expect: string } | { readonly send: string };

export interface BlackboxModule {
  readonly prober: 'tcp';
  readonly timeout: string;
  readonly tcp: { readonly query_response: readonly QueryStep[] };
}

/** The module's name in the exporter's configuration: probe.module or `postfix-relay-<env>`. */
export function probeModuleName(env: EnvironmentConfig): string {
  return env.probe.module ?? `${RELAY_NAME}-${env.name}`;
}

/** What the probe dials: the relay Service by the name applications use. */
export function probeTarget(env: EnvironmentConfig): string {
  return `${RELAY_NAME}.${env.namespace}.svc.${env.probe.clusterDomain}:${SMTP_PORT}`;
}

/** Envelope sender and recipient of the probe: an allowed sender domain, so that RCPT is judged like real mail. */
export function probeAddress(env: EnvironmentConfig): string {
  return `blackbox-probe@${env.mail.allowedSenderDomains[0]}`;
}

/** The name the probe greets with (EHLO). */
export function probeHeloName(env: EnvironmentConfig): string {
  return `blackbox-probe.${env.mail.domain}`;
}

export function renderBlackboxModule(env: EnvironmentConfig): BlackboxModule {
  const address = probeAddress(env);
  const exchange = (send: string, reply: number): QueryStep[] => [{ send: `${send}\r` }, { expect: `^${reply} ` }];
  return {
    prober: 'tcp',
    timeout: env.probe.timeout,
    tcp: {
      query_response: [
        // A multi-line reply ("250-...") is read line by line until its last line ("250 ...").
        { expect: '^220 ' },
        ...exchange(`EHLO ${probeHeloName(env)}`, 250),
        ...exchange(`MAIL FROM:<${address}>`, 250),
        ...exchange(`RCPT TO:<${address}>`, 250),
        ...exchange('RSET', 250),
        ...exchange('QUIT', 221),
      ],
    },
  };
}

/** The snippet for the exporter's configuration file (blackbox.yml): `modules: { <name>: ... }`. */
export function renderBlackboxConfig(env: EnvironmentConfig): string {
  return stringify({ modules: { [probeModuleName(env)]: renderBlackboxModule(env) } });
}
