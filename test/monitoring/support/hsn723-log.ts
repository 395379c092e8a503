/**
 * What Hsn723/postfix_exporter would count from a Postfix log, by its own documented rules
 * (exporter/postfix_exporter.go: logLine, lmtpPipeSMTPLine, smtpStatusLine, smtpDSNLine,
 * collectSMTPStatusLog). There is no Hsn723 binary here; applying its patterns to the REAL log
 * of the live test shows that Postfix 3.7 writes the status and DSN fields the Hsn723-only
 * counters (and so the alerts) are built from.
 */

const LOG_LINE = / ?(postfix|opendkim)(\/([\w_.+/-]+))?\[\d+\]: ((?:(warning|error|fatal|panic): )?.*)/;
const DELIVERY_LINE = /, relay=(\S+), .*, delays=([0-9.]+)\/([0-9.]+)\/([0-9.]+)\/([0-9.]+), /;
const STATUS = /, status=(\w+) /;
const DSN = /, dsn=(\d\.\d+\.\d+)/;

export interface Hsn723Counts {
  /** postfix_smtp_messages_processed_total{status} */
  readonly processed: Record<string, number>;
  /** postfix_smtp_deferred_messages_by_dsn_total{dsn} */
  readonly deferredByDsn: Record<string, number>;
  /** postfix_smtp_bounced_messages_by_dsn_total{dsn} */
  readonly bouncedByDsn: Record<string, number>;
}

/** `smtpLabels`: the service names Hsn723 treats as smtp (its --postfix.smtp_service_label). */
export function hsn723Counts(log: string, smtpLabels: readonly string[] = ['smtp']): Hsn723Counts {
  const processed: Record<string, number> = {};
  const deferredByDsn: Record<string, number> = {};
  const bouncedByDsn: Record<string, number> = {};
  const inc = (o: Record<string, number>, k: string) => (o[k] = (o[k] ?? 0) + 1);
  for (const line of log.split('\n')) {
    const m = LOG_LINE.exec(line);
    if (!m || m[1] !== 'postfix' || !smtpLabels.includes(m[3] ?? '')) continue;
    const remainder = m[4] as string;
    if (!DELIVERY_LINE.test(remainder)) continue;
    const status = STATUS.exec(remainder)?.[1];
    if (!status) continue;
    inc(processed, status);
    const dsn = DSN.exec(remainder)?.[1];
    if (dsn && status === 'deferred') inc(deferredByDsn, dsn);
    if (dsn && status === 'bounced') inc(bouncedByDsn, dsn);
  }
  return { processed, deferredByDsn, bouncedByDsn };
}
