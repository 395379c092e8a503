import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { renderDrainScript } from '../../src/postfix/drain';
import { CONFIG_FILES } from '../../src/postfix/layout';
import {
  makeTestPki,
  pathWithPostfixCommands,
  requireTool,
  sendWithNodemailer,
  startPostfix,
  startSink,
  stopAllPostfix,
  tempDir,
  waitFor,
  withPostfixCommandsFirst,
  type Sink,
  type TestPki,
} from './harness';

/**
 * The recovery procedure of docs/RELIABILITY.md ("Mail left on the volume of a removed pod"),
 * run for real: a pod whose relay was down is scaled away (drain to its deadline, then stop) and
 * leaves mail on its queue volume; the queue files are copied into a live pod's hold queue and
 * requeued there, and every message is delivered exactly once.
 */

const prod = loadEnvironmentFile('environments/prod.yaml');
const sender = `rescue@${prod.mail.allowedSenderDomains[0]}`;
const TEST_HEADER = 'X-Recovery-Test';
const COUNT = 12;

/** The live-pod half of the documented procedure, with the pod paths as variables. */
const REQUEUE_IN_LIVE_POD = `set -eu
find "$RESCUE" -type f -exec mv {} "$QUEUE/hold/" \\;
rm -rf "$RESCUE"
postsuper -c "$CONFIG" -s
postsuper -c "$CONFIG" -r ALL hold
postqueue -c "$CONFIG" -f
`;

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl') && requireTool('tar', 'tar');

describe.skipIf(!ready)('recovering mail left on the queue volume of a removed pod', () => {
  let pki: TestPki;
  let sink: Sink | undefined;

  beforeAll(() => {
    pki = makeTestPki(tempDir('recovery-pki-'));
  });

  // tempDir() cleans up at process exit, which a vitest worker may never reach.
  afterAll(() => {
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  afterEach(async () => {
    await stopAllPostfix();
    await sink?.stop();
    sink = undefined;
  });

  it('moves the queue files into a live pod and delivers each message exactly once', async () => {
    sink = await startSink({ pki, mode: 'down' });
    const env: EnvironmentConfig = { ...prod, queue: { ...prod.queue, drainDeadlineSeconds: 5 } };

    // 1. The pod that scale-down removes: it accepted mail while the relay was down.
    const removed = await startPostfix({ env, relay: { port: sink.port }, caFile: pki.caFile });
    for (let i = 0; i < COUNT; i++) {
      const r = await sendWithNodemailer(removed, { from: sender, to: ['rcpt@example.net'], headers: { [TEST_HEADER]: `m-${i}` } });
      expect(r.code, r.response).toBe(250);
    }
    await removed.waitForQueue((q) => q.length === COUNT && q.every((e) => e.queue_name === 'deferred'), `${COUNT} deferred`);
    // preStop drain to its deadline, then SIGTERM's `postfix stop`; the volume keeps the queue.
    const drainPath = join(removed.configDir, CONFIG_FILES.drain);
    writeFileSync(drainPath, withPostfixCommandsFirst(renderDrainScript(env)), { mode: 0o755 });
    execFileSync('sh', [drainPath], { env: { ...process.env, POSTFIX_CONFIG_DIR: removed.configDir, DRAIN_LOG: join(removed.dir, 'drain.log') } });
    execFileSync('postfix', ['-c', removed.configDir, 'stop'], { stdio: 'ignore' });
    await waitFor('the removed pod\'s master to exit', () => removed.process.exitCode !== null, { timeoutMs: 15_000 });

    // 2. A live pod, the relay is back.
    await sink.setMode('good');
    const live = await startPostfix({ env, relay: { port: sink.port }, caFile: pki.caFile });

    // 3. The recovery: stream the queue directories out of the volume (tar, as `kubectl exec ... tar`
    // does between pods) into the live pod, then requeue them there.
    // Staged on the queue volume itself (the pod's /tmp is a small memory-backed emptyDir), so
    // the final mv is a rename within one filesystem.
    const rescue = join(live.queueDir, 'rescue');
    mkdirSync(rescue);
    const archive = execFileSync('tar', ['-C', removed.queueDir, '-cf', '-', 'deferred', 'active', 'incoming', 'hold'], { maxBuffer: 256 * 1024 * 1024 });
    // Deferred files carry their next retry time as mtime: tar warns that it lies in the future.
    execFileSync('tar', ['-C', rescue, '-xf', '-'], { input: archive, stdio: ['pipe', 'pipe', 'pipe'] });
    execFileSync('sh', ['-c', REQUEUE_IN_LIVE_POD], {
      env: { ...process.env, RESCUE: rescue, QUEUE: live.queueDir, CONFIG: live.configDir, PATH: pathWithPostfixCommands('/usr/sbin:/usr/bin:/sbin:/bin') },
      stdio: 'pipe',
    });

    await sink.waitForMessages(COUNT, 30_000);
    await live.waitForQueue((q) => q.length === 0, 'the live queue to empty', 30_000);
    const delivered = sink.messages.map((m) => m.headers.find(([h]) => h === TEST_HEADER.toLowerCase())?.[1]).sort();
    expect(delivered).toEqual(Array.from({ length: COUNT }, (_, i) => `m-${i}`).sort());
    expect(sink.messages.every((m) => m.tls)).toBe(true);
  });
});
