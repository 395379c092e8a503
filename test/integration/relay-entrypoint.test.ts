import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { EXPORTER_UID } from '../../src/postfix/layout';
import { CONFIG_FILES } from '../../src/postfix/layout';
import { MONITOR_GID } from '../../src/postfix';
import {
  freePort,
  isAlive,
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
  type PostfixFiles,
  type Sink,
  type TestPki,
} from './harness';

// The container's command (rendered entrypoint.sh) as the pod runs it: it fails fast and
// visibly on a bad configuration, turns SIGTERM into a clean stop, exits when the master dies
// (so Kubernetes restarts the container), lets the non-root exporter read showq and the log, and
// rotates the log file.

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl') && requireTool('setpriv', 'util-linux');
const exporterReady = ready && requireTool('prometheus-postfix-exporter', 'prometheus-postfix-exporter');
const busyboxReady = ready && requireTool('busybox', 'busybox');

const edit = (files: PostfixFiles, file: keyof PostfixFiles, from: RegExp, to: string): PostfixFiles => {
  if (!from.test(files[file])) throw new Error(`${String(file)} has no ${from}`);
  return { ...files, [file]: files[file].replace(from, to) };
};

describe.skipIf(!ready)('entrypoint.sh (prod)', () => {
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

  const start = (extra: Partial<Parameters<typeof startPostfix>[0]> = {}) =>
    startPostfix({ env, relay: { port: sink.port }, caFile: pki.caFile, ...extra });

  describe('fails fast and visibly on a configuration Postfix rejects', () => {
    it.each([
      [
        'a main.cf value of the wrong type',
        (f: PostfixFiles) => edit(f, CONFIG_FILES.mainCf, /^message_size_limit = .*$/m, 'message_size_limit = lots'),
        /bad numerical configuration: message_size_limit = lots[\s\S]*entrypoint: FATAL: .*main\.cf has an invalid parameter/,
      ],
      [
        'a malformed master.cf line',
        (f: PostfixFiles) => ({ ...f, [CONFIG_FILES.masterCf]: `${f[CONFIG_FILES.masterCf]}broken unix -\n` }),
        /master\.cf: line \d+: bad field count[\s\S]*entrypoint: FATAL: .*master\.cf cannot be parsed/,
      ],
    ] as const)('%s', async (_what, editFiles, message) => {
      const pf = await start({ editFiles, noWait: true });
      const code = await Promise.race([pf.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 10_000))]);
      expect(code, pf.output.stderr).toBe(1);
      expect(pf.output.stderr).toMatch(message);
      expect(pf.masterPid()).toBeUndefined(); // the master never started
      await pf.stop(500);
    });
  });

  it.skipIf(!busyboxReady)('runs under BusyBox sh and applets, as in the Alpine image: starts, relays, rotates, stops', async () => {
    const pf = await start({
      busybox: true,
      editFiles: (f) =>
        edit(edit(f, CONFIG_FILES.entrypoint, /^rotate_bytes=\d+$/m, 'rotate_bytes=20000'), CONFIG_FILES.entrypoint, /^rotate_check_seconds=\d+$/m, 'rotate_check_seconds=1'),
    });
    expect(readFileSync(`/proc/${pf.process.pid}/cmdline`, 'utf8')).toContain('busybox-bin/sh');
    await waitFor(
      'a rotation under BusyBox',
      async () => {
        await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['bb@example.com'] });
        return existsSync(`${pf.logFile}.1`);
      },
      { timeoutMs: 30_000, intervalMs: 10 },
    );
    await waitFor('the stdout mirror', () => /postfix\/smtp\[\d+\]: [0-9A-F]+: to=<bb@example\.com>.*status=sent/.test(pf.output.stdout));
    pf.process.kill('SIGTERM');
    expect(await pf.exited).toBe(0);
    expect(pf.output.stderr).toContain('entrypoint: Postfix stopped');
    expect(pf.output.stderr).not.toMatch(/not found|applet|illegal|invalid option/i);
    const warnings = `${readFileSync(`${pf.logFile}.1`, 'utf8')}${pf.log()}`
      .split('\n')
      .filter((l) => /warning|fatal|error/i.test(l) && !/TLS server role is disabled/.test(l));
    expect(warnings).toEqual([]);
    await pf.stop();
  });

  it('SIGTERM: stops Postfix gracefully, exits 0 and leaves no process behind', async () => {
    const pf = await start();
    const master = pf.masterPid()!;
    await new Promise((r) => setTimeout(r, 1_500)); // let the rotation loop reach its sleep
    pf.process.kill('SIGTERM');
    expect(await pf.exited).toBe(0);
    await waitFor('the master process group to be empty', () => processGroupMembers(master).length === 0, { timeoutMs: 5_000 });
    expect(processGroupMembers(pf.process.pid!)).toEqual([]); // tail and the rotation loop too
    expect(pf.output.stderr).toMatch(/entrypoint: SIGTERM: stopping Postfix[\s\S]*entrypoint: Postfix stopped/);
    expect(pf.output.stdout).toMatch(/postfix\/postfix-script\[\d+\]: stopping the Postfix mail system/);
    await pf.stop();
  });

  it('exits non-zero when the master dies, so Kubernetes restarts the container', async () => {
    const pf = await start();
    process.kill(pf.masterPid()!, 'SIGKILL');
    expect(await pf.exited).toBe(1);
    expect(pf.output.stderr).toMatch(/entrypoint: the Postfix master exited unexpectedly \(status \d+\)\nentrypoint: exiting so that Kubernetes restarts the container\n$/);
    expect(pf.output.stderr).not.toMatch(/during start-up|cause:/); // it had started: no start-up diagnosis
    await pf.stop(); // the orphaned children, as the container runtime would
  });

  // Postfix 3.10's master writes its fatal bind error nowhere when it dies before postlogd runs
  // (3.7 writes it to the log file): the entrypoint names the cause itself, on both generations.
  describe.each([
    ['sh', false],
    ['BusyBox sh', true],
  ] as const)('names the cause when the SMTP port is taken (%s)', (_shell, busybox) => {
    it.skipIf(busybox && !busyboxReady).each([
      ['127.0.0.1', '127\\.0\\.0\\.1'],
      ['::', '\\[::\\]'], // dual-stack wildcard: it holds 127.0.0.1:<port> too
    ] as const)('by a socket on %s', async (host, shown) => {
      const holder: Server = createServer();
      await new Promise<void>((resolve, reject) => holder.once('error', reject).listen(0, host, resolve));
      const port = (holder.address() as { port: number }).port;
      try {
        const pf = await start({ port, busybox, noWait: true });
        const code = await Promise.race([pf.exited, new Promise<'running'>((r) => setTimeout(() => r('running'), 30_000))]);
        const output = `${pf.output.stdout}\n${pf.output.stderr}`;
        await pf.stop(1_000);
        expect(code, output).toBe(1);
        expect(pf.output.stderr).toMatch(/entrypoint: the Postfix master exited during start-up \(status 1\)/);
        expect(pf.output.stderr).toMatch(
          new RegExp(`entrypoint: cause: Postfix cannot listen on 127\\.0\\.0\\.1:${port}: port ${port} is already in use by ${shown}:${port} \\(pid ${process.pid}, node\\)`),
        );
        expect(pf.output.stderr).toMatch(/entrypoint: exiting so that Kubernetes restarts the container\n$/);
        expect(pf.output.stderr).not.toMatch(/NET_BIND_SERVICE/); // a port above 1024, as root: only the taken port is the cause
        // 3.7 also logs Postfix' own message (mirrored on stdout); 3.10 does not (docs/TESTING.md).
        if (postfixGeneration() === 'host') expect(pf.output.stdout).toMatch(new RegExp(`postfix/master\\[\\d+\\]: fatal: bind 127\\.0\\.0\\.1 port ${port}: Address already in use`));
      } finally {
        await new Promise((r) => holder.close(r));
      }
    });
  });

  it('names no cause when the master dies at start-up for another reason', async () => {
    // A master that is killed as soon as it runs: nothing is taken, nothing is privileged.
    const pf = await start({ noWait: true });
    await waitFor('the master', () => pf.masterPid(), { timeoutMs: 20_000, intervalMs: 5 });
    process.kill(pf.masterPid()!, 'SIGKILL');
    const code = await pf.exited;
    await pf.stop(1_000);
    expect(code, pf.output.stderr).toBe(1);
    // Either it had not created showq yet (start-up) or it had (unexpectedly): never a wrong cause.
    expect(pf.output.stderr).not.toMatch(/cause:/);
  });

  it('gives showq and the log to the monitor group: uid 65534 reaches them with that group, not without', async () => {
    const pf = await start();
    await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['x@example.com'] });
    await sink.waitForMessages(1);
    const showq = `${pf.queueDir}/public/showq`;
    const asExporter = (gid: number, js: string) =>
      spawnSync('setpriv', [`--reuid=${EXPORTER_UID}`, `--regid=${gid}`, '--clear-groups', '--', process.execPath, '-e', js], { encoding: 'utf8' });
    const connectShowq = `require('net').connect(${JSON.stringify(showq)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(1)})`;
    const readLog = `try{require('fs').readFileSync(${JSON.stringify(pf.logFile)});console.log('read')}catch(e){console.log(e.code);process.exit(1)}`;

    expect(asExporter(MONITOR_GID, connectShowq).stdout.trim()).toBe('connected');
    expect(asExporter(MONITOR_GID, readLog).stdout.trim()).toBe('read');
    expect(asExporter(EXPORTER_UID, connectShowq).stdout.trim()).toBe('EACCES');
    expect(asExporter(EXPORTER_UID, readLog).stdout.trim()).toBe('EACCES');
    expect(statSync(`${pf.queueDir}/public`).mode & 0o777).toBe(0o710);
    await pf.stop();
  });

  it.skipIf(!exporterReady)('lets the real postfix_exporter, as 65534 with the monitor group, read the queue and the log', async () => {
    const pf = await start();
    const port = await freePort();
    const exporter = spawn(
      'setpriv',
      [`--reuid=${EXPORTER_UID}`, `--regid=${MONITOR_GID}`, '--clear-groups', '--', 'prometheus-postfix-exporter',
        `--web.listen-address=127.0.0.1:${port}`, `--postfix.showq_path=${pf.queueDir}/public/showq`, `--postfix.logfile_path=${pf.logFile}`],
      { stdio: 'ignore' },
    );
    const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    try {
      // showq over the socket in public/ (mode 0710, monitor group).
      await waitFor('postfix_up 1 for showq', async () => /postfix_up\{path="[^"]*\/public\/showq"\} 1/.test(await metrics()), {
        timeoutMs: 15_000,
        intervalMs: 300,
      });
      // The log file (0640, monitor group): it tails from the end, so send after it started.
      await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['x@example.com'] });
      await sink.waitForMessages(1);
      await waitFor('smtpd connections counted from the log', async () => /postfix_smtpd_connects_total [1-9]/.test(await metrics()), {
        timeoutMs: 15_000,
        intervalMs: 300,
      });
    } finally {
      exporter.kill('SIGKILL');
      await pf.stop();
    }
  });

  it('rotates the log at the configured size, keeps one old file, and keeps streaming the new one', async () => {
    // Same script with a small threshold and a 1 s check, so the test does not wait for 8 MiB.
    const pf = await start({
      editFiles: (f) =>
        edit(edit(f, CONFIG_FILES.entrypoint, /^rotate_bytes=\d+$/m, 'rotate_bytes=20000'), CONFIG_FILES.entrypoint, /^rotate_check_seconds=\d+$/m, 'rotate_check_seconds=1'),
    });
    await waitFor(
      'postfix.log.1',
      async () => {
        await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['rotate@example.com'] });
        return existsSync(`${pf.logFile}.1`);
      },
      { timeoutMs: 30_000, intervalMs: 10 },
    );
    expect(statSync(`${pf.logFile}.1`).size).toBeGreaterThanOrEqual(20_000);
    // A line or two written while postlogd restarts for the reopen can be lost; wait past it.
    await new Promise((r) => setTimeout(r, 1_500));

    const sent = await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['after-rotation@example.com'] });
    const id = /queued as ([0-9A-F]+)/.exec(sent.response)![1]!;
    const sentLine = new RegExp(`${id}: to=<after-rotation@example\\.com>.*status=sent`);
    await pf.waitForLog(sentLine);
    await waitFor('the stdout mirror to follow the new file', () => sentLine.test(pf.output.stdout), { timeoutMs: 5_000 });
    // The reload that made postlogd reopen the file was itself logged to the old one.
    expect(readFileSync(`${pf.logFile}.1`, 'utf8')).toMatch(/postfix\/master\[\d+\]: reload -- version/);
    const st = statSync(pf.logFile);
    expect(st.gid).toBe(MONITOR_GID);
    expect(st.mode & 0o777).toBe(0o640);
    expect(existsSync(`${pf.logFile}.2`)).toBe(false);
    expect(isAlive(pf.process.pid!)).toBe(true);
    await pf.stop();
  });
});
