/**
 * The metrics path, live: Debian's prometheus-postfix-exporter (kumina 0.3.0) runs as uid 65534
 * in the monitor group, like the sidecar, against a real Postfix running prod.yaml's rendered
 * files, while real traffic goes through it: delivered, held (550 5.7.0 and 5.4.5 from a
 * Gmail-like sink), deferred (450 4.2.1, and 4.7.5 when the relay's certificate does not verify)
 * and rejected (a sender outside the allowed domains). Then every metric name the rules and
 * the dashboard read is shown to be exposed:
 *   - names both exporter builds share: in this live scrape;
 *   - names only Hsn723 has (the sidecar image; Debian ships only kumina 0.3.0): absent here,
 *     present in test/fixtures/hsn723-metrics.txt (written from Hsn723's sources), and their
 *     inputs (status and DSN fields) shown in this very Postfix log by Hsn723's own patterns.
 * Finally promtool evaluates the alert rules on the live scrape.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { METRICS, renderRuleGroups, TARGETS, type MetricInfo } from '../../src/monitoring';
import { leMatcher } from '../../src/monitoring/promql';
import { MONITOR_GID } from '../../src/postfix';
import { EXPORTER_UID } from '../../src/postfix/layout';
import { startGmailSink, type GmailSink } from '../monitoring/support/gmail-sink';
import { parseExposition, names, total, type Sample } from '../monitoring/support/exposition';
import { hsn723Counts } from '../monitoring/support/hsn723-log';
import { promtool } from '../monitoring/support/promtool-tests';
import { usedSeriesNames } from '../monitoring/support/queries';
import {
  freePort,
  makeTestPki,
  requireTool,
  sendWithNodemailer,
  startPostfix,
  stopAllPostfix,
  waitFor,
  type PostfixInstance,
} from './harness';
import { signal } from './harness/processes';

const EXPORTER = '/usr/bin/prometheus-postfix-exporter';
const ready =
  requireTool('postfix', 'postfix') &&
  requireTool(EXPORTER, 'prometheus-postfix-exporter') &&
  requireTool('setpriv', 'util-linux') &&
  requireTool('promtool', 'prometheus');

const env = loadEnvironmentFile('environments/prod.yaml');
const FIXTURE = 'test/fixtures/hsn723-metrics.txt';
const ALLOWED = `app@${env.mail.allowedSenderDomains[0]}`;

describe.skipIf(!ready)('postfix_exporter against a real Postfix', () => {
  let sink: GmailSink;
  let pf: PostfixInstance;
  let exporter: ChildProcess | undefined;
  let exporterOutput = '';
  let metricsUrl: string;
  let scrape: Sample[];
  let scrapeText: string;
  const queueIds: Record<string, string[]> = {};
  let pkiDir: string | undefined;

  const fetchMetrics = async () => {
    const res = await fetch(metricsUrl);
    return res.text();
  };

  beforeAll(async () => {
    pkiDir = mkdtempSync(join(tmpdir(), 'exporter-pki-'));
    const pki = makeTestPki(pkiDir);
    sink = await startGmailSink(pki, await freePort(), 'good');
    pf = await startPostfix({ env, relay: { port: sink.port }, caFile: pki.caFile });

    // As the sidecar runs: uid 65534, primary group = the monitor group, no other groups, no
    // way to gain privileges. It reaches showq only through public/'s group (mode 0710).
    const port = await freePort();
    metricsUrl = `http://127.0.0.1:${port}/metrics`;
    exporter = spawn(
      'setpriv',
      [
        `--reuid=${EXPORTER_UID}`,
        `--regid=${MONITOR_GID}`,
        '--clear-groups',
        '--no-new-privs',
        EXPORTER,
        `--web.listen-address=127.0.0.1:${port}`,
        `--postfix.showq_path=${join(pf.queueDir, 'public', 'showq')}`,
        `--postfix.logfile_path=${pf.logFile}`,
      ],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const pid = exporter.pid;
    // A crashed test run must not leave the exporter behind either.
    process.once('exit', () => pid && signal(-pid, 'SIGKILL'));
    exporter.stdout!.setEncoding('utf8').on('data', (c: string) => (exporterOutput += c));
    exporter.stderr!.setEncoding('utf8').on('data', (c: string) => (exporterOutput += c));
    await waitFor('the exporter to serve /metrics', () => fetchMetrics().catch(() => undefined), { timeoutMs: 15_000 });

    // Traffic. Each outcome is waited for in the log before the next, so the order is known;
    // the certificate failure comes last because it may suspend the destination for a while.
    const send = async (to: string, from = ALLOWED) => {
      const r = await sendWithNodemailer(pf, { from, to: [to], subject: `monitoring test to ${to}` });
      return r;
    };
    const queued = (r: { response: string }) => /queued as ([0-9A-Za-z]+)/.exec(r.response)?.[1];
    const outcome = async (label: string, to: string, pattern: (id: string) => RegExp) => {
      const r = await send(to);
      expect(r.ok, `${label}: ${r.response}`).toBe(true);
      const id = queued(r);
      expect(id, r.response).toBeDefined();
      await pf.waitForLog(pattern(id!), 20_000);
      (queueIds[label] ??= []).push(id!);
    };
    for (let i = 0; i < 3; i++) await outcome('sent', 'deliver@example.com', (id) => new RegExp(`${id}: to=<deliver@example.com>.*status=sent`));
    // mail.holdRelayRefusals (prod) keeps Google's 5.7.0/5.4.5 in the queue as 4.7.0/4.4.5.
    await outcome('denied', 'denied@example.com', (id) => new RegExp(`${id}: to=<denied@example.com>.*dsn=4\\.7\\.0, status=deferred`));
    await outcome('daily', 'daily@example.com', (id) => new RegExp(`${id}: to=<daily@example.com>.*dsn=4\\.4\\.5, status=deferred`));
    await outcome('toobig', 'toobig@example.com', (id) => new RegExp(`${id}: to=<toobig@example.com>.*dsn=5\\.3\\.4, status=bounced`));
    await outcome('ratelimit', 'ratelimit@example.com', (id) => new RegExp(`${id}: to=<ratelimit@example.com>.*dsn=4\\.2\\.1, status=deferred`));
    const rejected = await send('deliver@example.com', 'someone@not-allowed.example');
    expect(rejected.ok).toBe(false);
    expect(rejected.code).toBeGreaterThanOrEqual(500);
    await pf.waitForLog(/NOQUEUE: reject: RCPT from .*not-allowed\.example/);
    await sink.setTls('wrong-name');
    await outcome('tls', 'deliver@example.com', (id) => new RegExp(`${id}: to=<deliver@example.com>.*dsn=4\\.7\\.5, status=deferred`));

    // The exporter tails the log: wait until it has counted the last line it must see.
    await waitFor(
      'the exporter to count the certificate deferral',
      async () => {
        const text = await fetchMetrics();
        const s = parseExposition(text);
        return total(s, 'postfix_smtp_status_deferred') >= 2 && total(s, 'postfix_smtpd_messages_rejected_total') >= 1 && text;
      },
      { timeoutMs: 15_000 },
    );
    scrapeText = await fetchMetrics();
    scrape = parseExposition(scrapeText);
  });

  afterAll(async () => {
    if (exporter?.pid) signal(-exporter.pid, 'SIGKILL');
    await stopAllPostfix();
    await sink?.stop();
    if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
  });

  it('runs as uid 65534 in the monitor group only and still reads the showq socket', () => {
    const status = readFileSync(`/proc/${findExporterPid(exporter!)}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${EXPORTER_UID}\\s+${EXPORTER_UID}\\s+${EXPORTER_UID}\\s+${EXPORTER_UID}$`, 'm'));
    expect(status).toMatch(new RegExp(`^Gid:\\s+${MONITOR_GID}\\s+${MONITOR_GID}\\s+${MONITOR_GID}\\s+${MONITOR_GID}$`, 'm'));
    expect(status).toMatch(/^Groups:\s*$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    expect(total(scrape, 'postfix_up', { path: join(pf.queueDir, 'public', 'showq') }), exporterOutput).toBe(1);
  });

  it('reports the queue length as postqueue sees it (histogram count, not rate)', () => {
    const queue = pf.queue();
    const held = [...(queueIds.denied ?? []), ...(queueIds.daily ?? []), ...(queueIds.ratelimit ?? []), ...(queueIds.tls ?? [])];
    expect(queue.map((q) => q.queue_id).sort()).toEqual(held.sort());
    expect(total(scrape, 'postfix_showq_message_size_bytes_count')).toBe(queue.length);
    expect(total(scrape, 'postfix_showq_message_age_seconds_count')).toBe(queue.length);
  });

  it('writes the age buckets in the form the rules match', () => {
    const les = scrape.filter((s) => s.name === 'postfix_showq_message_age_seconds_bucket').map((s) => s.labels.le as string);
    for (const bound of [1000, 1e6]) {
      const re = new RegExp(`^(?:${leMatcher(bound).re})$`);
      expect(les.some((le) => re.test(le)), `le for ${bound} among ${[...new Set(les)].join(' ')}`).toBe(true);
    }
  });

  it('counts the traffic: received, removed, rejected, deferred, verified TLS', () => {
    const sent = queueIds.sent?.length ?? 0;
    expect(total(scrape, 'postfix_cleanup_messages_processed_total')).toBeGreaterThanOrEqual(sent + 4);
    // Delivered and bounced messages leave the queue (the bounce notice too).
    expect(total(scrape, 'postfix_qmgr_messages_removed_total')).toBeGreaterThanOrEqual(sent + 2);
    expect(total(scrape, 'postfix_smtpd_messages_rejected_total')).toBeGreaterThanOrEqual(1);
    expect(total(scrape, 'postfix_smtp_status_deferred')).toBeGreaterThanOrEqual(2);
    expect(total(scrape, 'postfix_smtpd_connects_total')).toBeGreaterThanOrEqual(sent + 4);
    // Verified sessions to the good relay, one session short of Verified to the wrong-name
    // certificate: Postfix 3.7 logs it Untrusted, 3.10 Trusted (the chain is the test CA's, the
    // name is not the relay's); either way the mail is deferred (4.7.5), never sent.
    expect(total(scrape, 'postfix_smtp_tls_connections_total', { trust: 'Verified' }), scrapeText).toBeGreaterThanOrEqual(sent + 4);
    const notVerified = total(scrape, 'postfix_smtp_tls_connections_total', { trust: 'Untrusted' }) + total(scrape, 'postfix_smtp_tls_connections_total', { trust: 'Trusted' });
    expect(notVerified, scrapeText).toBe(1);
  });

  it('exposes every name the rules and the dashboard read that both exporter builds share', () => {
    const exposed = names(scrape);
    const shared = (Object.values(METRICS) as MetricInfo[]).filter((m) => m.source === 'kumina-0.3.0');
    for (const m of shared) {
      const series = m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_count`, `${m.name}_sum`] : [m.name];
      for (const s of series) expect(exposed.has(s), `${s} in the live scrape`).toBe(true);
    }
    const used = new Set([...usedSeriesNames(env), ...usedSeriesNames(loadEnvironmentFile('environments/dev.yaml'))]);
    const exporterNames = [...used].filter((n) => shared.some((m) => n === m.name || n.startsWith(`${m.name}_`)));
    expect(exporterNames.length).toBeGreaterThan(8);
    for (const n of exporterNames) expect(exposed.has(n), n).toBe(true);
  });

  it('lacks the Hsn723-only names (so they are checked against the fixture), and kumina files bounces as unsupported', () => {
    const exposed = names(scrape);
    const fixture = names(parseExposition(readFileSync(FIXTURE, 'utf8')));
    for (const m of (Object.values(METRICS) as MetricInfo[]).filter((x) => x.source === 'hsn723')) {
      expect(exposed.has(m.name), `${m.name} is not in kumina 0.3.0`).toBe(false);
      expect(fixture.has(m.name), `${m.name} is in ${FIXTURE}`).toBe(true);
    }
    expect(total(scrape, 'postfix_unsupported_log_entries_total', { service: 'bounce' })).toBeGreaterThanOrEqual(1);
  });

  it('logs the status and DSN fields the Hsn723-only counters (and the DSN alerts) are built from', () => {
    const counts = hsn723Counts(pf.log());
    // The bounce notice to the sender goes out through the relay as well.
    expect(counts.processed.sent).toBe((queueIds.sent?.length ?? 0) + 1);
    expect(counts.processed.bounced).toBe(1);
    expect(counts.bouncedByDsn).toEqual({ '5.3.4': 1 });
    expect(counts.deferredByDsn['4.7.0']).toBeGreaterThanOrEqual(1);
    expect(counts.deferredByDsn['4.4.5']).toBeGreaterThanOrEqual(1);
    expect(counts.deferredByDsn['4.2.1']).toBeGreaterThanOrEqual(1);
    expect(counts.deferredByDsn['4.7.5']).toBeGreaterThanOrEqual(1);
    // Same pattern in both builds: kumina's deferral counter agrees with the Hsn723 count.
    expect(total(scrape, 'postfix_smtp_status_deferred')).toBe(counts.processed.deferred);
  });

  it('drives the alert rules when promtool evaluates them on the live scrape', () => {
    const queued = total(scrape, 'postfix_showq_message_size_bytes_count');
    const dir = mkdtempSync(join(tmpdir(), 'exporter-rules-'));
    try {
      const check = (queueSize: number, fires: boolean) => {
        const e: EnvironmentConfig = { ...env, alerts: { ...env.alerts, queueSize } };
        writeFileSync(join(dir, 'rules.yaml'), stringify({ groups: renderRuleGroups(e) }));
        const labels = { namespace: env.namespace, job: TARGETS.metricsService, pod: 'postfix-relay-0', instance: '10.0.0.1:8080' };
        const input = [
          { series: seriesText('up', labels), values: '1x30' },
          ...scrape
            .filter((s) => s.name.startsWith('postfix_') && Number.isFinite(s.value))
            // The test instance's showq path stands in for the pod's.
            .map((s) => ({
              series: seriesText(s.name, { ...s.labels, ...labels, ...(s.name === 'postfix_up' ? { path: TARGETS.showqSocket } : {}) }),
              values: `${s.value}x30`,
            })),
        ];
        const tests = {
          rule_files: ['rules.yaml'],
          evaluation_interval: '1m',
          tests: [
            {
              interval: '1m',
              input_series: input,
              promql_expr_test: [
                { expr: 'ALERTS{alertname="PostfixRelayHighQueue",alertstate="firing"}', eval_time: '20m', exp_samples: fires ? [{ labels: alertSeries(e, queueSize), value: 1 }] : [] },
                { expr: 'ALERTS{alertname="PostfixRelayDown"}', eval_time: '20m', exp_samples: [] },
              ],
            },
          ],
        };
        writeFileSync(join(dir, 'tests.yaml'), stringify(tests));
        return promtool(['test', 'rules', 'tests.yaml'], dir);
      };
      const alertSeries = (e: EnvironmentConfig, _q: number) =>
        seriesText('ALERTS', { alertname: 'PostfixRelayHighQueue', alertstate: 'firing', namespace: e.namespace, pod: 'postfix-relay-0', severity: 'warning', service: 'postfix-relay', environment: e.name });
      expect(queued).toBeGreaterThanOrEqual(2);
      const above = check(queued - 1, true);
      expect(above.status, above.output).toBe(0);
      const at = check(queued, false);
      expect(at.status, at.output).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function seriesText(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}`;
}

/** setpriv execs the exporter in place, so the spawned pid is the exporter's. */
function findExporterPid(child: ChildProcess): number {
  const pid = child.pid!;
  const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (!cmd.includes('postfix-exporter')) throw new Error(`pid ${pid} is not the exporter: ${cmd}`);
  return pid;
}
