import { connect, type Socket } from 'node:net';
import type { SmtpReply } from '../harness';

/**
 * An SMTP session held open across time, command by command: what a pooled application
 * client does, and what the drain must deal with (a session opened before the drain keeps its
 * old smtpd). The harness' smtpConversation runs a fixed script in one go; this one waits
 * between commands.
 */
export class SmtpSession {
  private buffer = '';
  private lines: string[] = [];
  private waiting: ((reply: SmtpReply | undefined) => void) | undefined;
  private queued: SmtpReply[] = [];
  private isClosed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => {
      this.isClosed = true;
      this.waiting?.(undefined);
      this.waiting = undefined;
    });
    socket.on('error', () => undefined);
  }

  /** Connects and reads the greeting (then EHLO). */
  static async open(port: number, host = '127.0.0.1'): Promise<SmtpSession> {
    const socket = connect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    const session = new SmtpSession(socket);
    const greeting = await session.next();
    if (greeting?.code !== 220) throw new Error(`no 220 greeting: ${greeting?.text}`);
    const ehlo = await session.command('EHLO session.test.example');
    if (ehlo?.code !== 250) throw new Error(`EHLO refused: ${ehlo?.text}`);
    return session;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends one command; resolves with its reply, or undefined when the server closed the session. */
  command(line: string): Promise<SmtpReply | undefined> {
    if (this.isClosed) return Promise.resolve(undefined);
    this.socket.write(`${line}\r\n`);
    return this.next();
  }

  /** One message in this session. Resolves with the final reply (the 250 carries the queue id), or undefined if closed. */
  async send(from: string, to: string, message: string): Promise<SmtpReply | undefined> {
    for (const line of [`MAIL FROM:<${from}>`, `RCPT TO:<${to}>`, 'DATA']) {
      const reply = await this.command(line);
      if (!reply || reply.code >= 400) return reply;
    }
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    return this.command(`${body}\r\n.`);
  }

  close(): void {
    this.socket.destroy();
  }

  private next(timeoutMs = 15_000): Promise<SmtpReply | undefined> {
    const ready = this.queued.shift();
    if (ready) return Promise.resolve(ready);
    if (this.isClosed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no SMTP reply within 15 s')), timeoutMs);
      this.waiting = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
    });
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.lines.push(line);
      if (/^\d{3}( |$)/.test(line)) {
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.join('\n') };
        this.lines = [];
        const waiting = this.waiting;
        this.waiting = undefined;
        if (waiting) waiting(reply);
        else this.queued.push(reply);
      }
    }
  }
}
