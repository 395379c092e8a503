import { SMTPServer, type SMTPServerAuthentication, type SMTPServerAuthenticationResponse, type SMTPServerSession } from 'smtp-server';
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

/**
 * Credentials the sink requires, as smtp-relay.gmail.com does with "Require SMTP Authentication":
 * MAIL FROM before AUTH gets `530 5.7.0 Authentication Required`, wrong credentials
 * `535 5.7.8 Username and Password not accepted`. AUTH is offered only after STARTTLS (or on a
 * TLS-on-connect listener), except in `no-starttls` mode where it is offered in clear: a client
 * that would send credentials without TLS gets the chance to, and `authAttempts` shows it.
 */
export interface SinkAuth {
  readonly username: string;
  readonly password: string;
  /** SASL mechanisms offered. @default ['PLAIN', 'LOGIN', 'CRAM-MD5'] */
  readonly methods?: ReadonlyArray<'PLAIN' | 'LOGIN' | 'CRAM-MD5' | 'XOAUTH2'>;
}

/** One AUTH exchange the sink saw (password as received: tests check it, never log it). */
export interface AuthAttempt {
  readonly method: string;
  readonly username: string;
  readonly password: string;
  /** True when the session was encrypted (after STARTTLS, or TLS on connect) at AUTH time. */
  readonly tls: boolean;
  readonly accepted: boolean;
}

/** A message the sink accepted, or a MAIL FROM it saw (see `mailFroms`). */
export interface ReceivedMessage {
  readonly mailFrom: string;
  readonly rcptTo: readonly string[];
  /** The HELO/EHLO name the client (Postfix) used. */
  readonly helo: string;
  /** True when the message came over STARTTLS (or TLS on connect). */
  readonly tls: boolean;
  /** The SMTP AUTH identity of the session, when the client authenticated. */
  readonly authUser?: string;
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
  /** Require SMTP AUTH with these credentials (see SinkAuth). @default no AUTH offered */
  readonly auth?: SinkAuth;
  /**
   * TLS on connect (SMTPS, as on port 465) with the mode's certificate, instead of STARTTLS.
   * Not with `no-starttls`. @default false
   */
  readonly implicitTls?: boolean;
}

export interface Sink {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly mode: SinkMode;
  /** Accepted messages, in arrival order. */
  readonly messages: ReceivedMessage[];
  /** Every MAIL FROM seen, with whether TLS was on (proves nothing was sent in clear). */
  readonly mailFroms: ReadonlyArray<{ readonly address: string; readonly tls: boolean }>;
  /** Every AUTH exchange, in order. */
  readonly authAttempts: ReadonlyArray<AuthAttempt>;
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
  const authAttempts: AuthAttempt[] = [];
  const auth = options.auth;
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
      if (options.implicitTls && !cert) return reject(new Error(`sink: implicitTls needs a certificate mode, not "${m}"`));
      const disabled = [...(auth ? [] : ['AUTH']), ...(cert && !options.implicitTls ? [] : ['STARTTLS'])];
      const s = new SMTPServer({
        name: options.pki.relayName,
        banner: 'test sink',
        secure: options.implicitTls === true,
        ...(cert ? { key: cert.key, cert: cert.cert } : {}),
        disabledCommands: disabled,
        authOptional: !auth,
        ...(auth
          ? {
              authMethods: [...(auth.methods ?? ['PLAIN', 'LOGIN', 'CRAM-MD5'])],
              // Offered in clear only when there is no TLS at all: a client must refuse that.
              allowInsecureAuth: !cert,
              authRequiredMessage: '5.7.0 Authentication Required (test sink)',
              maxAllowedUnauthenticatedCommands: false as const,
              onAuth(a: SMTPServerAuthentication, session: SMTPServerSession, callback: (err: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void) {
                const password = a.password ?? '';
                const ok = a.username === auth.username && (a.validatePassword ? a.validatePassword(auth.password) : password === auth.password);
                authAttempts.push({ method: a.method, username: a.username ?? '', password, tls: session.secure, accepted: ok });
                if (ok) return callback(null, { user: a.username! });
                callback(Object.assign(new Error('5.7.8 Username and Password not accepted (test sink)'), { responseCode: 535 }));
              },
            }
          : {}),
        disableReverseLookup: true,
        logger: false,
        closeTimeout: 200,
        size: 60 * 1024 * 1024,

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
      // Counted per TCP connection, before any TLS: a client that fails the handshake of a
      // TLS-on-connect listener never reaches onConnect, but it did connect.
      s.server.on('connection', () => {
        connections += 1;
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
    authAttempts,
    get tempFailed() {
      return tempFailed;
    },
    get connections() {
      return connections;
    },
    clear() {
      messages.length = 0;
      mailFroms.length = 0;
      authAttempts.length = 0;
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
    ...(session.user ? { authUser: String(session.user) } : {}),
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
