/**
 * Integration harness: a real, isolated Postfix running an environment's rendered files, a real
 * STARTTLS sink standing in for smtp-relay.gmail.com, and real clients. Stable API; add to it,
 * do not change it.
 *
 *   const ready = requireTool('postfix', 'postfix');          // CI=true: missing tool fails
 *   describe.skipIf(!ready)('my suite', () => {
 *     let pki: TestPki, sink: Sink, pf: PostfixInstance;
 *     beforeAll(async () => {
 *       pki = makeTestPki(tempDir());                          // CA + relay certs, made now
 *       sink = await startSink({ pki, mode: 'good' });         // good | wrong-name | self-signed | no-starttls | down
 *       pf = await startPostfix({ env: loadEnvironmentFile('environments/prod.yaml'),
 *                                 relay: { port: sink.port }, caFile: pki.caFile });
 *     });
 *     afterAll(async () => { await stopAllPostfix(); await sink?.stop(); });
 *     it('relays', async () => {
 *       await sendWithNodemailer(pf, { from: 'a@bionicaisolutions.com', to: ['x@example.com'] });
 *       const [m] = await sink.waitForMessages(1);               // envelope, helo, tls, headers, body
 *     });
 *   });
 *
 * or, the same three hooks in one call (import it from './harness/relay-fixture': it needs vitest,
 * which the bench's bundle of this harness must not load):
 *
 *     let sink: Sink, pf: PostfixInstance;
 *     useRelay(env, { sink: { mode: 'down' }, clearSinkEachTest: true }, (r) => ({ sink, pf } = r));
 *
 * startPostfix runs the rendered entrypoint.sh (postfix check, start-fg, log to stdout, showq
 * group, rotation) in its own process group, with only these main.cf overrides (the rendered
 * line is commented out, never duplicated): queue/data/log paths under a temp dir, smtpd on
 * 127.0.0.1:<free port>, mynetworks = 127.0.0.1/32 (bind a client to OUTSIDE_ADDRESS 127.0.0.2
 * to pose as an outside client), smtpd_peername_lookup = no, relayhost = the sink, smtp_tls_CAfile
 * = the test CA; plus `mainCf` overrides you pass. TLS stays at the rendered level, and the
 * rendered smtp_tls_secure_cert_match (the relay's name) is what the sink's certificate must match.
 * The config directory is laid out like a mounted ConfigMap (files in a timestamped directory,
 * `..data` and one symlink per key). `capabilities: [...]` runs it under capsh with exactly that
 * bounding set and no_new_privs. `busybox: true` runs the entrypoint under BusyBox sh and applets
 * (the Alpine image's userland). `reuse: instance` restarts on the directories of an instance
 * that was kill()ed (a crash) or stop()ped with { keepFiles: true }, like a restarted container.
 * Instances: queue() (postqueue -j), flush() (postqueue -f), log(), waitForLog(), waitForQueue(),
 * stop() (SIGTERM, then kill the whole tree), kill() (crash: SIGKILL everything at once).
 * On POSTFIX_GENERATION=3.10 (the integration-postfix-3.10 project) every Postfix command is the
 * Debian 13 root's (generation.ts, scripts/postfix-root.cjs); startPostfix checks the version.
 * requireHelm() gives the real Helm v4 (helm.ts).
 * preparePostfix writes the same directory without starting anything (for `postfix check`: run
 * it with -c <configDir>/..data, as the entrypoint does, or it warns about the ConfigMap symlinks).
 */
export { requireTool, findTool } from './tools';
export {
  postfixGeneration,
  isCI,
  activatePostfixGeneration,
  capabilitiesForGeneration,
  withPostfixCommandsFirst,
  pathWithPostfixCommands,
  expectedPostfixVersion,
  postfixRootStatus,
  type PostfixGeneration,
} from './generation';
export { waitFor, sleep } from './wait';
export { descendants, isAlive, isRunning, processGroupMembers } from './processes';
export { freePort, canConnect, smtpConversation, type SmtpReply } from './net';
export { makeTestPki, type TestPki } from './pki';
export { startSink, type Sink, type SinkMode, type SinkOptions, type ReceivedMessage } from './sink';
export {
  preparePostfix,
  startPostfix,
  stopAllPostfix,
  INSIDE_ADDRESS,
  OUTSIDE_ADDRESS,
  type InstancePaths,
  type PrepareOptions,
  type PreparedInstance,
  type StartOptions,
  type PostfixInstance,
  type QueueEntry,
} from './postfix';
export { sendWithNodemailer, swaks, type MailToSend, type SendResult, type SwaksResult } from './clients';
export { tempDir } from './temp';
export { requireHelm, HELM_VERSION, type Helm, type HelmResult } from './helm';
export type { PostfixFiles } from '../../../src/postfix';
