/**
 * A STARTTLS stand-in for smtp-relay.gmail.com that answers like Google does, chosen by the
 * recipient's local part, so one Postfix run produces every outcome the alerts watch:
 *   deliver@...   250
 *   denied@...    550 5.7.0 Mail relay denied            (held as 4.7.0 by mail.holdRelayRefusals)
 *   daily@...     550 5.4.5 Daily SMTP relay limit ...   (held as 4.4.5 by mail.holdRelayRefusals)
 *   toobig@...    552 5.3.4 message size limits          (bounced, dsn 5.3.4)
 *   ratelimit@... 450 4.2.1 ... try again later          (deferred, dsn 4.2.1)
 * `tls` picks the certificate: the relay's (verifies), one for another name (Postfix at
 * `secure` defers with 4.7.5), or none (STARTTLS not offered: 4.7.4).
 */
import { SMTPServer } from 'smtp-server';
import type { TestPki } from '../../integration/harness';

export type GmailTls = 'good' | 'wrong-name' | 'none';

export interface GmailSink {
  readonly port: number;
  readonly delivered: string[];
  setTls(tls: GmailTls): Promise<void>;
  stop(): Promise<void>;
}

const REPLIES: Record<string, { code: number; text: string }> = {
  denied: { code: 550, text: '5.7.0 Mail relay denied [127.0.0.1]. Invalid credentials for relay for one of the domains in: example.com' },
  daily: { code: 550, text: '5.4.5 Daily SMTP relay limit exceeded for user. For more information, go to support.google.com' },
  toobig: { code: 552, text: "5.3.4 Your message exceeded Google's message size limits. For more information, go to support.google.com" },
  ratelimit: { code: 450, text: '4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages' },
};

export async function startGmailSink(pki: TestPki, port: number, tls: GmailTls = 'good'): Promise<GmailSink> {
  const delivered: string[] = [];
  let server: SMTPServer | undefined;

  const open = (mode: GmailTls) =>
    new Promise<void>((resolve, reject) => {
      const cert = mode === 'good' ? pki.good : mode === 'wrong-name' ? pki.wrongName : undefined;
      const s = new SMTPServer({
        name: pki.relayName,
        secure: false,
        ...(cert ? { key: cert.key, cert: cert.cert } : {}),
        disabledCommands: cert ? ['AUTH'] : ['AUTH', 'STARTTLS'],
        authOptional: true,
        disableReverseLookup: true,
        logger: false,
        closeTimeout: 200,
        onRcptTo(address, _session, callback) {
          const reply = REPLIES[address.address.split('@')[0] ?? ''];
          if (!reply) return callback();
          return callback(Object.assign(new Error(reply.text), { responseCode: reply.code }));
        },
        onData(stream, session, callback) {
          stream.on('data', () => undefined);
          stream.on('end', () => {
            delivered.push(...session.envelope.rcptTo.map((r) => r.address));
            callback();
          });
        },
      });
      s.on('error', () => undefined);
      s.server.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        resolve();
      });
    });

  const close = () =>
    new Promise<void>((resolve) => {
      const s = server;
      server = undefined;
      if (!s) return resolve();
      s.close(() => resolve());
    });

  await open(tls);
  return {
    port,
    delivered,
    setTls: async (mode) => {
      await close();
      await open(mode);
    },
    stop: close,
  };
}
