import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

/**
 * A minimal SMTP client for load: one command, one reply, no pipelining (like an application's
 * mail library). Cheaper than nodemailer per message, so at 50 clients the load generator does not
 * take the CPU that Postfix needs on a 2-core machine.
 */
export class SmtpSession {
  private buffer = '';
  private waiting: { resolve: (reply: Reply) => void; reject: (err: Error) => void } | undefined;
  private replies: Reply[] = [];
  private failure: Error | undefined;

  private constructor(private socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  static async open(host: string, port: number, timeoutMs: number, localAddress?: string): Promise<SmtpSession> {
    const socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    socket.setNoDelay(true);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from ${host}:${port} in ${timeoutMs} ms`)));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const session = new SmtpSession(socket);
    await session.expect(await session.reply(), 220, 'greeting');
    return session;
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('latin1')));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  private onData(text: string): void {
    this.buffer += text;
    let end: number;
    let lines: string[] = [];
    while ((end = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      lines.push(line);
      // A reply ends with "NNN " (or a bare "NNN"); "NNN-" continues it.
      if (line.length < 4 || line[3] === ' ') {
        this.deliver({ code: Number(line.slice(0, 3)), text: lines.join('\n') });
        lines = [];
      }
    }
    if (lines.length) this.buffer = lines.map((l) => `${l}\r\n`).join('') + this.buffer;
  }

  private deliver(reply: Reply): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve(reply);
    } else this.replies.push(reply);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w.reject(err);
    }
  }

  reply(): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  async command(line: string): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  async expect(reply: Reply, code: number, what: string): Promise<Reply> {
    if (reply.code !== code) throw new SmtpError(`${what}: expected ${code}, got ${reply.text}`, reply);
    return reply;
  }

  async ehlo(name: string): Promise<string[]> {
    const r = await this.expect(await this.command(`EHLO ${name}`), 250, 'EHLO');
    return r.text.split('\n').map((l) => l.slice(4).toUpperCase());
  }

  /** STARTTLS and a new EHLO; the server's certificate is verified against `ca` for `servername`. */
  async startTls(ca: string | Buffer, servername: string, ehloName: string): Promise<void> {
    await this.expect(await this.command('STARTTLS'), 220, 'STARTTLS');
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    const plain = this.socket;
    const secure = tlsConnect({ socket: plain, ca, servername });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
    await this.ehlo(ehloName);
  }

  /** One message; resolves with the final reply to the data (250 when accepted). */
  async send(from: string, to: string, data: string): Promise<Reply> {
    await this.expect(await this.command(`MAIL FROM:<${from}>`), 250, 'MAIL FROM');
    await this.expect(await this.command(`RCPT TO:<${to}>`), 250, 'RCPT TO');
    await this.expect(await this.command('DATA'), 354, 'DATA');
    this.socket.write(`${data}\r\n.\r\n`);
    return this.reply();
  }

  async quit(): Promise<void> {
    try {
      this.socket.write('QUIT\r\n');
      await Promise.race([this.reply(), new Promise((r) => setTimeout(r, 200))]);
    } catch {
      // The server may close first; the message was already accepted or not.
    } finally {
      this.socket.destroy();
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export interface Reply {
  code: number;
  text: string;
}

export class SmtpError extends Error {
  constructor(
    message: string,
    readonly reply: Reply,
  ) {
    super(message);
  }
}

/** A small transactional message of about `bytes` bytes, dot-stuffing not needed (no leading dots). */
export function message(from: string, to: string, id: string, bytes: number): string {
  const headers = [
    `From: <${from}>`,
    `To: <${to}>`,
    `Subject: bench ${id}`,
    `Message-ID: <${id}@bench.invalid>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
  ].join('\r\n');
  const line = 'The quick brown fox jumps over the lazy dog; this line pads the bench message body.\r\n';
  const body = line.repeat(Math.max(1, Math.ceil((bytes - headers.length) / line.length)));
  return `${headers}\r\n\r\n${body.slice(0, Math.max(line.length, bytes - headers.length - 4))}`;
}
