/**
 * The client-side probe, with the real tools: Debian's prometheus-blackbox-exporter (0.23) runs
 * the module this project GENERATES (renderBlackboxConfig) against the real Postfix relay
 * running prod's rendered files, as the user's exporter does when Prometheus scrapes the Probe.
 *
 *  - a healthy relay: success, and the conversation reaches RCPT without queueing anything;
 *  - the relay frozen (SIGSTOP of the master and every daemon; the kernel still completes the
 *    TCP handshake, so a port check would pass): failure within one probe timeout;
 *  - the preStop drain refusing new clients (421 at RCPT): failure, at once;
 *  - the relay not listening: failure, at once;
 *  - and its lines end in CR: smtp-sink, which waits for CRLF, answers it, but not the same module
 *    without the CR.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { probeModuleName, renderBlackboxConfig, type BlackboxModule } from '../../src/monitoring/blackbox';
import { METRICS } from '../../src/monitoring/metrics';
import { durationSeconds } from '../../src/monitoring/promql';
import { DRAIN_REFUSE_REPLY } from '../../src/postfix/drain';
import { canConnect, findTool, freePort, processGroupMembers, requireTool, waitFor, type PostfixInstance, type Sink } from './harness';
import { BLACKBOX_BINARY, checkBlackboxConfig, startBlackbox, type Blackbox } from './harness/blackbox';
import { signal } from './harness/processes';
import { useRelay } from './harness/relay-fixture';
import { runDrain } from './load/drain-runner';
import { ensureRefuseTable, refuseTableOverride } from './load/refuse-table';

const prod = loadEnvironmentFile('environments/prod.yaml');
// A short timeout keeps the frozen-relay case quick; the module is generated from it all the same.
const env: EnvironmentConfig = {
  ...prod,
  probe: { ...prod.probe, enabled: true, timeout: '4s' },
  queue: { ...prod.queue, drainDeadlineSeconds: 10 },
};
const TIMEOUT_S = durationSeconds(env.probe.timeout);
/** What Prometheus sends as the scrape timeout: the Probe's scrapeTimeout (timeout + 1 s). */
const SCRAPE_TIMEOUT_S = TIMEOUT_S + 1;
/** Slack for a loaded CI machine on top of the timeout. */
const SLACK_MS = 3_000;
const module = probeModuleName(env);

const ready = requireTool(BLACKBOX_BINARY, 'prometheus-blackbox-exporter') && requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');

describe.skipIf(!ready)('the generated blackbox module against the real relay', () => {
  let blackbox: Blackbox | undefined;
  let pf: PostfixInstance;
  let sink: Sink;
  useRelay(env, { postfix: { mainCf: refuseTableOverride(env) } }, (r) => ({ pf, sink } = r));

  beforeAll(async () => {
    await ensureRefuseTable(pf);
    // The generated module, and beside it the same module with the CRs stripped (the mutation
    // the smtp-sink case below must catch).
    const config = parse(renderBlackboxConfig(env)) as { modules: Record<string, BlackboxModule> };
    const generated = config.modules[module]!;
    const stripped = { ...generated, tcp: { query_response: generated.tcp.query_response.map((s) => ('send' in s ? { send: s.send.replace(/\r$/, '') } : s)) } };
    blackbox = await startBlackbox(stringify({ modules: { ...config.modules, [`${module}-without-cr`]: stripped } }));
  });
  afterAll(async () => {
    await blackbox?.stop();
    if (smtpSink && smtpSink.exitCode === null) smtpSink.kill('SIGTERM');
  });
  let smtpSink: ChildProcess | undefined;

  const probe = () => blackbox!.probe(module, `127.0.0.1:${pf.port}`, SCRAPE_TIMEOUT_S);
  /** Every process of this Postfix instance: the master's process group (the master and its daemons). */
  const relayProcesses = () => {
    const master = pf.masterPid();
    if (!master) throw new Error('no master pid');
    return processGroupMembers(master);
  };

  it('is a configuration the real exporter accepts (--config.check)', () => {
    const r = checkBlackboxConfig(renderBlackboxConfig(env));
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/Config file is ok/);
  });

  it('succeeds on a healthy relay, through RCPT, and queues nothing', async () => {
    const r = await probe();
    expect(r.success, r.debug).toBe(true);
    expect(r.durationSeconds).toBeLessThan(TIMEOUT_S);
    // The relay saw the whole conversation, and RSET discarded the transaction: no mail.
    await pf.waitForLog(/disconnect from .* ehlo=1 mail=1 rcpt=1 rset=1 quit=1 commands=5/);
    expect(pf.queue()).toEqual([]);
    expect(sink.messages).toHaveLength(0);
  });

  it('reports probe_success, the series the rules read', async () => {
    const r = await probe();
    expect(r.metricNames).toContain(METRICS.probeSuccess.name);
    expect(r.metricNames).toContain(METRICS.probeDuration.name);
  });

  it('fails within one probe timeout when the relay is frozen (SIGSTOP) although its port still accepts', async () => {
    const frozen = relayProcesses();
    expect(frozen.length).toBeGreaterThan(1);
    for (const pid of frozen) signal(pid, 'SIGSTOP');
    try {
      // A TCP health check would call this relay healthy: the kernel completes the handshake.
      expect(await canConnect('127.0.0.1', pf.port)).toBe(true);
      const r = await probe();
      expect(r.success, r.debug).toBe(false);
      expect(r.debug).toMatch(/Regexp did not match|i\/o timeout|deadline exceeded/);
      expect(r.elapsedMs).toBeGreaterThanOrEqual((TIMEOUT_S - 1) * 1000); // it waited for the banner...
      expect(r.elapsedMs).toBeLessThan(TIMEOUT_S * 1000 + SLACK_MS); // ...no longer than its timeout
    } finally {
      for (const pid of frozen) signal(pid, 'SIGCONT');
    }
    // Thawed, it answers again.
    await waitFor('the probe to succeed again', async () => (await probe()).success, { timeoutMs: 20_000, intervalMs: 500 });
  });

  it('fails at RCPT, at once, while the preStop drain refuses new clients', async () => {
    const drain = await runDrain(pf, env);
    expect(drain.code).toBe(0);
    // The drain leaves its refusal in place (the pod is going away): clients now get 421 at RCPT,
    // after a banner and an EHLO that look perfectly healthy.
    const r = await probe();
    expect(r.success, r.debug).toBe(false);
    expect(r.debug).toContain(DRAIN_REFUSE_REPLY.split(' ').slice(2).join(' '));
    expect(r.debug).toMatch(/Regexp did not match/);
    expect(r.elapsedMs).toBeLessThan(SLACK_MS);
  });

  it("ends its lines in CR: Postfix's smtp-sink answers the generated module, and never answers it without the CR", async () => {
    const port = await freePort();
    // smtp-sink refuses to run as root without -u; it waits for CRLF before it answers a command.
    smtpSink = spawn(findTool('smtp-sink')!, ['-u', 'postfix', `127.0.0.1:${port}`, '10'], { stdio: 'ignore' });
    await waitFor('smtp-sink to listen', () => canConnect('127.0.0.1', port), { timeoutMs: 10_000 });
    const ok = await blackbox!.probe(module, `127.0.0.1:${port}`, SCRAPE_TIMEOUT_S);
    expect(ok.success, ok.debug).toBe(true);
    const bare = await blackbox!.probe(`${module}-without-cr`, `127.0.0.1:${port}`, SCRAPE_TIMEOUT_S);
    expect(bare.success).toBe(false);
    expect(bare.elapsedMs).toBeGreaterThanOrEqual((TIMEOUT_S - 1) * 1000); // it waited for an answer to EHLO
    smtpSink.kill('SIGTERM');
  });

  it('fails at once when the relay is not listening', async () => {
    const port = pf.port;
    await pf.stop();
    await waitFor('the smtp port to close', async () => !(await canConnect('127.0.0.1', port)), { timeoutMs: 20_000 });
    const r = await blackbox!.probe(module, `127.0.0.1:${port}`, SCRAPE_TIMEOUT_S);
    expect(r.success).toBe(false);
    expect(r.debug).toMatch(/connection refused/);
    expect(r.elapsedMs).toBeLessThan(SLACK_MS);
  });
});
