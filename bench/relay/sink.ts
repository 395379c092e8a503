import { createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';

/**
 * A fast STARTTLS SMTP sink that stands in for smtp-relay.gmail.com in the throughput bench.
 * The integration harness' sink (npm smtp-server) waits 100 ms before every greeting to catch
 * early talkers, which would cap a Postfix that opens one connection per message (the stock
 * config) far below what it can do, and flatter the prod config that reuses connections. This
 * one answers at once, accepts everything, keeps no mail and counts what it saw.
 *
 * Run as its own process (`node sink.js`, driven over IPC) so it does not share an event loop
 * with the load generator.
 */

export interface SinkStats {
  port: number;
  messages: number;
  connections: number;
  tlsConnections: number;
  /** Date.now() of the last message accepted. */
  lastMessageAt: number;
  ehloNames: string[];
}

export interface SinkOptions {
  key: string;
  cert: string;
  /**
   * Delay before every reply (ms), to stand in for the round trip to a relay on the internet: a
   * pipelined group of commands costs one delay, as it costs one round trip. 0 = loopback speed.
   */
  replyDelayMs?: number;
  host?: string;
  port?: number;
}

export class FastSink {
  private server: Server;
  private context: SecureContext;
  readonly stats: SinkStats = { port: 0, messages: 0, connections: 0, tlsConnections: 0, lastMessageAt: 0, ehloNames: [] };
  private readonly sockets = new Set<Socket>();
  /** How many times each bench Message-ID (the part before "@") arrived: exactly once is the goal. */
  private readonly ids = new Map<string, number>();

  constructor(private readonly options: SinkOptions) {
    this.context = createSecureContext({ key: options.key, cert: options.cert });
    this.server = createServer((socket) => this.session(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve);
    });
    const address = this.server.address();
    this.stats.port = typeof address === 'object' && address ? address.port : 0;
    return this.stats.port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private session(plain: Socket): void {
    this.stats.connections++;
    this.sockets.add(plain);
    plain.setNoDelay(true);
    plain.on('close', () => this.sockets.delete(plain));
    plain.on('error', () => plain.destroy());
    let socket: Socket = plain;
    const delay = this.options.replyDelayMs ?? 0;
    // Replies go to the socket current when they were produced (STARTTLS swaps it).
    const send = (text: string, end = false): void => {
      const target = socket;
      const write = () => (end ? target.end(text) : target.write(text));
      if (delay > 0) setTimeout(write, delay);
      else write();
    };
    let tls = false;
    let inData = false;
    let buffer = '';
    let tail = '';
    // The start of the current message's data, where its Message-ID header is.
    let head = '';

    const onData = (chunk: Buffer): void => {
      buffer += chunk.toString('latin1');
      let out = '';
      for (;;) {
        if (inData) {
          if (head.length < HEAD_BYTES) head += buffer.slice(0, HEAD_BYTES - head.length);
          // The data ends at CRLF.CRLF; `tail` carries the last bytes already seen (DATA's own
          // CRLF at first), so a terminator split across chunks is still found.
          const text = tail + buffer;
          const end = text.indexOf('\r\n.\r\n');
          if (end < 0) {
            tail = text.slice(-4);
            buffer = '';
            break;
          }
          buffer = text.slice(end + 5);
          inData = false;
          this.stats.messages++;
          this.stats.lastMessageAt = Date.now();
          const id = MESSAGE_ID.exec(head)?.[1];
          if (id) this.ids.set(id, (this.ids.get(id) ?? 0) + 1);
          out += `250 2.0.0 Ok: queued as ${this.stats.messages}\r\n`;
          continue;
        }
        const eol = buffer.indexOf('\r\n');
        if (eol < 0) break;
        const line = buffer.slice(0, eol);
        buffer = buffer.slice(eol + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO' || verb === 'HELO') {
          const name = line.slice(5).trim();
          if (this.stats.ehloNames.length < 20 && !this.stats.ehloNames.includes(name)) this.stats.ehloNames.push(name);
          out += verb === 'HELO' ? '250 sink\r\n' : `250-sink\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n${tls ? '' : '250-STARTTLS\r\n'}250 8BITMIME\r\n`;
        } else if (verb === 'STAR' && !tls) {
          send(out + '220 2.0.0 Ready to start TLS\r\n');
          out = '';
          socket.removeListener('data', onData);
          const secure = new TLSSocket(plain, { isServer: true, secureContext: this.context });
          secure.on('error', () => plain.destroy());
          secure.on('secure', () => this.stats.tlsConnections++);
          secure.on('data', onData);
          socket = secure;
          tls = true;
          buffer = '';
          break;
        } else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP') {
          out += '250 2.0.0 Ok\r\n';
        } else if (verb === 'DATA') {
          out += '354 End data with <CR><LF>.<CR><LF>\r\n';
          inData = true;
          tail = '\r\n';
          head = '';
        } else if (verb === 'QUIT') {
          send(out + '221 2.0.0 Bye\r\n', true);
          return;
        } else {
          out += '502 5.5.2 Error: command not recognized\r\n';
        }
      }
      if (out) send(out);
    };

    socket.on('data', onData);
    send('220 smtp-relay.gmail.com ESMTP bench sink\r\n');
  }

  /** Counts of the Message-IDs that start with `prefix` + "."; forgets them (each run asks once). */
  takeIds(prefix: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, n] of this.ids) {
      if (!id.startsWith(`${prefix}.`)) continue;
      out[id] = n;
      this.ids.delete(id);
    }
    return out;
  }
}

const HEAD_BYTES = 4096;
const MESSAGE_ID = /^Message-ID:\s*<([^@>\s]+)@/im;

/** Child-process entry: `{ key, cert, replyDelayMs }` in, `{ port }` out, then `stats` requests answered with SinkStats. */
export function serveOverIpc(): void {
  let sink: FastSink | undefined;
  process.on('message', async (msg: { type: string; key?: string; cert?: string; replyDelayMs?: number; prefix?: string }) => {
    if (msg.type === 'start' && msg.key && msg.cert) {
      sink = new FastSink({ key: msg.key, cert: msg.cert, replyDelayMs: msg.replyDelayMs ?? 0 });
      const port = await sink.listen();
      process.send?.({ type: 'started', port });
    } else if (msg.type === 'stats') {
      process.send?.({ type: 'stats', stats: sink?.stats });
    } else if (msg.type === 'ids' && msg.prefix) {
      process.send?.({ type: 'ids', prefix: msg.prefix, ids: sink?.takeIds(msg.prefix) ?? {} });
    } else if (msg.type === 'stop') {
      await sink?.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
}
