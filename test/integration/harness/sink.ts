import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { TestPki } from './pki';
import { freePort } from './net';
import { waitFor } from './wait';

/**
 * How the stand-in for smtp-relay.gmail.com behaves:
 * - `good`: STARTTLS with a certificate for the relay name, signed by the test CA;
 * - `wrong-name`: STARTTLS with a test-CA certificate for another name;
 * - `self-signed`: STARTTLS with a self-signed certificate for the relay name;
 * - `no-starttls`: plain SMTP only (STARTTLS not offered);
 * - `down`: not listening at all (connection refused).
 */
export type SinkMode = 'good' | 'wrong-name' | 'self-signed' | 'no-starttls' | 'down';

/** A message the sink accepted, or a MAIL FROM it saw (see `mailFroms`). */
export interface ReceivedMessage {
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  /** The HELO/EHLO name the client (Postfix) used. */
  readonly helo: string;
  /** True when the message came over STARTTLS. */
  readonly tls: boolean;
  /** The message as received (headers and body, CRLF line ends). */
  readonly raw: string;
  /** Header lines, lower-cased names; repeated headers keep every value. */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  readonly body: string;
  readonly receivedAt: number;
}

export interface SinkOptions {
  readonly pki: TestPki;
  readonly mode?: SinkMode;
  /** Share of messages answered with 451 4.3.0 at end of DATA (deterministic: every 1/ratio-th). */
  readonly tempFailRatio?: number;
  readonly port?: number;
  /** Recipients answered with 550 5.1.1 at RCPT (a permanent failure, e.g. to test bounces). */
  readonly rejectRecipients?: RegExp;
  /** Recipients answered with a reply of your choice at RCPT (e.g. Gmail's 550 5.7.0 relay denial). */
  readonly recipientReplies?: ReadonlyArray<{ readonly match: RegExp; readonly code: number; readonly text: string }>;
}

export interface Sink {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly mode: SinkMode;
  /** Accepted messages, in arrival order. */
  readonly messages: ReceivedMessage[];
  /** Every MAIL FROM seen, with whether TLS was on (proves nothing was sent in clear). */
  readonly mailFroms: ReadonlyArray<{ readonly address: string; readonly tls: boolean }>;
  /** Messages answered with a temporary failure. */
  readonly tempFailed: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Forgets what was received (messages, MAIL FROMs, counters). */
  clear(): void;
  /** Restarts the sink on the same port in another mode (`down` just closes it). */
  setMode(mode: SinkMode, tempFailRatio?: number): Promise<void>;
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  stop(): Promise<void>;
}

/** Starts the STARTTLS sink on 127.0.0.1 (a free port unless `port` is given). */
export async function startSink(options: SinkOptions): Promise<Sink> {
  const port = options.port ?? (await freePort());
  const messages: ReceivedMessage[] = [];
  const mailFroms: { address: string; tls: boolean }[] = [];
  let server: SMTPServer | undefined;
  let mode: SinkMode = 'down';
  let ratio = 0;
  let dataCount = 0;
  let tempFailed = 0;
  let connections = 0;

  const close = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      if (!s) return resolve();
      s.close(() => resolve());
    });

  const open = (m: SinkMode) =>
    new Promise<void>((resolve, reject) => {
      if (m === 'down') return resolve();
      const cert =
        m === 'good' ? options.pki.good : m === 'wrong-name' ? options.pki.wrongName : m === 'self-signed' ? options.pki.selfSigned : undefined;
      const s = new SMTPServer({
        name: options.pki.relayName,
        banner: 'test sink',
        secure: false,
        ...(cert ? { key: cert.key, cert: cert.cert } : {}),
        disabledCommands: cert ? ['AUTH'] : ['AUTH', 'STARTTLS'],
        authOptional: true,
        disableReverseLookup: true,
        logger: false,
        closeTimeout: 200,
        size: 60 * 1024 * 1024,
        onConnect(_session, callback) {
          connections += 1;
          callback();
        },
        onRcptTo(address, _session, callback) {
          const custom = options.recipientReplies?.find((r) => r.match.test(address.address));
          if (custom) return callback(Object.assign(new Error(custom.text), { responseCode: custom.code }));
          if (options.rejectRecipients?.test(address.address)) {
            return callback(Object.assign(new Error('5.1.1 test sink: no such user'), { responseCode: 550 }));
          }
          callback();
        },
        onMailFrom(address, session, callback) {
          mailFroms.push({ address: address.address, tls: session.secure });
          callback();
        },
        onData(stream, session: SMTPServerSession, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            dataCount += 1;
            if (ratio > 0 && Math.floor(dataCount * ratio) > Math.floor((dataCount - 1) * ratio)) {
              tempFailed += 1;
              const err = Object.assign(new Error('4.3.0 test sink: try again later'), { responseCode: 451 });
              return callback(err);
            }
            const raw = Buffer.concat(chunks).toString('utf8');
            messages.push({ ...parse(raw), raw, ...envelope(session), receivedAt: Date.now() });
            callback();
          });
        },
      });
      s.on('error', () => undefined);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
      s.server.once('error', reject);
    });

  const setMode = async (m: SinkMode, tempFailRatio = 0) => {
    await close();
    ratio = tempFailRatio;
    mode = m;
    await open(m);
  };
  await setMode(options.mode ?? 'good', options.tempFailRatio ?? 0);

  return {
    host: '127.0.0.1',
    port,
    get mode() {
      return mode;
    },
    messages,
    mailFroms,
    get tempFailed() {
      return tempFailed;
    },
    get connections() {
      return connections;
    },
    clear() {
      messages.length = 0;
      mailFroms.length = 0;
      tempFailed = 0;
      connections = 0;
      dataCount = 0;
    },
    setMode,
    waitForMessages: (count, timeoutMs = 20_000) =>
      waitFor(`${count} message(s) at the sink (have ${messages.length})`, () => messages.length >= count && messages, { timeoutMs }),
    stop: close,
  };
}

function envelope(session: SMTPServerSession) {
  return {
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    rcptTo: session.envelope.rcptTo.map((r) => r.address),
    helo: session.hostNameAppearsAs,
    tls: session.secure,
  };
}

function parse(raw: string): { headers: [string, string][]; body: string } {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: [string, string][] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1]![1] += ` ${line.trim()}`;
    else {
      const i = line.indexOf(':');
      if (i > 0) headers.push([line.slice(0, i).toLowerCase(), line.slice(i + 1).trim()]);
    }
  }
  return { headers, body };
}
