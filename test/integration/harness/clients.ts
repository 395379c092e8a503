import { execFile } from 'node:child_process';
import { createTransport } from 'nodemailer';

export interface MailToSend {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject?: string;
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface SendResult {
  readonly ok: boolean;
  /** The final SMTP reply code (250 when accepted). */
  readonly code: number;
  readonly response: string;
  readonly accepted: readonly string[];
  readonly rejected: readonly string[];
  readonly messageId?: string;
}

/**
 * Sends one message with nodemailer (plain SMTP, no STARTTLS: the relay offers none to clients).
 * Never throws for an SMTP refusal: the result carries the code and text.
 */
export async function sendWithNodemailer(
  target: { readonly host?: string; readonly port: number },
  mail: MailToSend,
  { localAddress, envelopeFrom }: { localAddress?: string; envelopeFrom?: string } = {},
): Promise<SendResult> {
  const transport = createTransport({
    host: target.host ?? '127.0.0.1',
    port: target.port,
    secure: false,
    ignoreTLS: true,
    name: 'client.test.example',
    ...(localAddress ? { localAddress } : {}),
    connectionTimeout: 10_000,
    socketTimeout: 20_000,
  });
  try {
    const info = await transport.sendMail({
      from: mail.from,
      to: [...mail.to],
      subject: mail.subject ?? 'test',
      text: mail.text ?? 'hello',
      ...(mail.headers ? { headers: { ...mail.headers } } : {}),
      ...(envelopeFrom !== undefined ? { envelope: { from: envelopeFrom, to: [...mail.to] } } : {}),
    });
    return {
      ok: true,
      code: Number(info.response.slice(0, 3)),
      response: info.response,
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String),
      messageId: info.messageId,
    };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string; message: string; rejected?: string[] };
    return { ok: false, code: e.responseCode ?? 0, response: e.response ?? e.message, accepted: [], rejected: e.rejected ?? [] };
  } finally {
    transport.close();
  }
}

export interface SwaksResult {
  /** swaks' exit code: 0 accepted, 23 refused at MAIL/RCPT, 24 refused after DATA, ... */
  readonly exitCode: number;
  /** The full transcript (swaks prints it on stdout). */
  readonly transcript: string;
}

/** Runs swaks against 127.0.0.1:port with extra arguments (e.g. ['--from', x, '--to', y]). */
export function swaks(port: number, args: readonly string[], { host = '127.0.0.1' }: { host?: string } = {}): Promise<SwaksResult> {
  return new Promise((resolve) => {
    execFile(
      'swaks',
      ['--server', `${host}:${port}`, '--helo', 'client.test.example', '--timeout', '20', ...args],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ exitCode: code, transcript: `${stdout}${stderr}` });
      },
    );
  });
}
