import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { POSTFIX_CAPABILITIES } from '../../src/postfix';
import {
  makeTestPki,
  postfixGeneration,
  processGroupMembers,
  requireTool,
  sendWithNodemailer,
  startPostfix,
  startSink,
  stopAllPostfix,
  tempDir,
  waitFor,
  type Sink,
  type TestPki,
} from './harness';

// Issue 3, test 3.7: the capabilities the manifest adds back after dropping ALL are enough and
// each is needed. The rendered entrypoint runs under capsh with exactly that bounding set and
// no_new_privs (what allowPrivilegeEscalation: false sets), as root, like the container; smtpd
// listens on a port below 1024 as port 25 does in the pod.
//
// Evidence per capability (what breaks without it; asserted below):
//   CHOWN            the entrypoint cannot give data_directory to the postfix user
//   DAC_OVERRIDE     `postfix check` cannot enter the postfix-owned (0700) queue directories
//   FOWNER           post-install cannot chmod the queue directories it gave to postfix
//   SETGID / SETUID  postsuper (and every daemon) cannot drop to the postfix group / user
//   NET_BIND_SERVICE the master cannot bind the SMTP port below 1024
// Not needed, and absent: KILL (stop and children's exit work without it), SYS_CHROOT (chroot = n).

const ready = requireTool('postfix', 'postfix') && requireTool('capsh', 'libcap2-bin') && requireTool('openssl', 'openssl');

const CAPS = POSTFIX_CAPABILITIES.map((c) => c.name);

const EVIDENCE: Readonly<Record<string, RegExp>> = {
  CHOWN: /chown: changing ownership of '[^']*\/data': Operation not permitted/,
  DAC_OVERRIDE: /Permission denied[\s\S]*fatal: unable to create missing queue directories|fatal: unable to create missing queue directories[\s\S]*Permission denied/,
  FOWNER: /chmod: changing permissions of '[^']*\/queue\/[a-z]+': Operation not permitted/,
  SETGID: /fatal: setgid\(\d+\): Operation not permitted/,
  SETUID: /fatal: setuid\(\d+\): Operation not permitted/,
  NET_BIND_SERVICE: /fatal: bind 127\.0\.0\.1 port \d+: Permission denied/,
};

/**
 * Postfix 3.10 loses the master's own fatal error at start-up when it logs to a file and postlogd
 * is not running yet (3.7 falls back to writing the file itself; 3.10 writes nowhere, not even to
 * stderr), so the entrypoint names the cause itself: on both generations, the container's output
 * says which listener needs NET_BIND_SERVICE. On 3.7 Postfix' own line (EVIDENCE) is there too.
 */
const ENTRYPOINT_CAUSE: Readonly<Record<string, RegExp>> = {
  NET_BIND_SERVICE:
    /entrypoint: cause: Postfix cannot listen on 127\.0\.0\.1:(\d+): port \1 is below net\.ipv4\.ip_unprivileged_port_start \(\d+\) and this container lacks the NET_BIND_SERVICE capability/,
};
/** What must show for a missing capability: Postfix' own message where it writes one, and the entrypoint's cause. */
function evidenceFor(cap: string): RegExp[] {
  const cause = ENTRYPOINT_CAUSE[cap];
  if (!cause) return [EVIDENCE[cap]!];
  return postfixGeneration() === 'host' ? [EVIDENCE[cap]!, cause] : [cause];
}

/** A free port below 1024 on 127.0.0.1 (we run as root, so binding it here proves nothing). */
async function privilegedPort(): Promise<number> {
  const start = 700 + Math.floor(Math.random() * 250);
  for (let port = start; port < 1000; port++) {
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port below 1024 on 127.0.0.1');
}

function capsOf(pid: number): { bounding: string[]; effective: string[]; noNewPrivs: boolean } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)![1]!;
  const decode = (hex: string) => {
    const out = execFileSync('capsh', [`--decode=${hex}`], { encoding: 'utf8' });
    return out.slice(out.indexOf('=') + 1).trim().split(',').filter(Boolean).map((c) => c.replace(/^cap_/, '').toUpperCase()).sort();
  };
  return { bounding: decode(field('CapBnd')), effective: decode(field('CapEff')), noNewPrivs: field('NoNewPrivs') === '1' };
}

describe.skipIf(!ready)('3.7 capabilities of the postfix container', () => {
  const env = loadEnvironmentFile('environments/prod.yaml');
  let pki: TestPki;
  let sink: Sink;

  beforeAll(async () => {
    pki = makeTestPki(tempDir());
    sink = await startSink({ pki, mode: 'good' });
  });
  afterAll(async () => {
    await stopAllPostfix();
    await sink?.stop();
  });

  it('is exactly CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID, NET_BIND_SERVICE', () => {
    expect([...CAPS].sort()).toEqual(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'NET_BIND_SERVICE', 'SETGID', 'SETUID']);
  });

  it('is enough: under exactly these, Postfix binds a port below 1024, relays over verified TLS and stops cleanly', async () => {
    const port = await privilegedPort();
    const pf = await startPostfix({ env, relay: { port: sink.port }, caFile: pki.caFile, capabilities: CAPS, port });
    const master = pf.masterPid()!;
    const caps = capsOf(master);
    expect(caps.bounding).toEqual([...CAPS].sort());
    expect(caps.effective).toEqual([...CAPS].sort());
    expect(caps.noNewPrivs).toBe(true);
    expect(pf.output.stderr).not.toMatch(/entrypoint: cause:/);

    const sent = await sendWithNodemailer(pf, { from: 'caps@bionicaisolutions.com', to: ['x@example.com'] });
    expect(sent.code, sent.response).toBe(250);
    const [m] = await sink.waitForMessages(1);
    expect(m!.tls).toBe(true);

    // Graceful stop without KILL: the master and every child are gone, nothing force-killed.
    pf.process.kill('SIGTERM');
    expect(await pf.exited).toBe(0);
    await waitFor('the master process group to be empty', () => processGroupMembers(master).length === 0, { timeoutMs: 5_000 });
    expect(pf.output.stderr).toContain('entrypoint: Postfix stopped');
    expect(pf.log()).not.toMatch(/warning: .*kill|Operation not permitted/);
    await pf.stop();
  });

  it.each(CAPS)('needs %s: without it Postfix does not start, and says why', async (cap) => {
    const port = await privilegedPort();
    const pf = await startPostfix({
      env,
      relay: { port: sink.port },
      caFile: pki.caFile,
      capabilities: CAPS.filter((c) => c !== cap),
      port,
      noWait: true,
    });
    const code = await Promise.race([pf.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 15_000))]);
    const evidence = `${pf.output.stderr}\n${pf.log()}`;
    await pf.stop(1_000);
    expect(code, evidence).not.toBe('running');
    expect(code, evidence).not.toBe(0);
    for (const e of evidenceFor(cap)) expect(evidence).toMatch(e);
    expect(evidence).toMatch(/entrypoint: (FATAL|the Postfix master exited (unexpectedly|during start-up))/);
    if (ENTRYPOINT_CAUSE[cap]) {
      // In the container's own output (stderr, what kubectl logs shows), for the refused port, alone.
      expect(ENTRYPOINT_CAUSE[cap]!.exec(pf.output.stderr)?.[1], evidence).toBe(String(port));
      expect(pf.output.stderr.match(/entrypoint: cause:/g)).toHaveLength(1);
    } else {
      expect(pf.output.stderr).not.toMatch(/entrypoint: cause:/); // never a wrong cause
    }
  });
});
