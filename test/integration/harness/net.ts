import { createServer, connect, type Socket } from 'node:net';

/** A free TCP port on `host` (bind port 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port. */
export function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One SMTP reply: the code and the full (possibly multi-line) text. */
export interface SmtpReply {
  readonly code: number;
  readonly text: string;
}

/**
 * A raw SMTP conversation, for addresses no client library would send as-is (open-relay tricks).
 * Sends each command after the previous reply and returns [greeting, ...one reply per command].
 * When DATA is refused, the command after it (the message) is skipped and gets no reply.
 * `localAddress` lets a test pose as a client outside mynetworks (e.g. 127.0.0.2).
 */
export function smtpConversation(
  port: number,
  commands: readonly string[],
  { host = '127.0.0.1', localAddress, timeoutMs = 10_000 }: { host?: string; localAddress?: string; timeoutMs?: number } = {},
): Promise<SmtpReply[]> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host, port, ...(localAddress ? { localAddress } : {}) });
    const replies: SmtpReply[] = [];
    let sent = 0;
    let buffer = '';
    let lines: string[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`SMTP conversation timed out after ${replies.length} replies: ${JSON.stringify(replies)}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      socket.end();
      resolve(replies);
    };
    socket.setEncoding('utf8');
    socket.on('error', (err) => {
      clearTimeout(timer);
      // A server may reset the connection right after its 221 to QUIT.
      if (replies.at(-1)?.code === 221) resolve(replies);
      else reject(err);
    });
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
          const reply = { code: Number(line.slice(0, 3)), text: lines.join('\n') };
          replies.push(reply);
          lines = [];
          // After a refused DATA the next "command" is the message: skip it, as a client would.
          if (sent > 0 && /^DATA$/i.test(commands[sent - 1]!) && reply.code !== 354) sent += 1;
          const next = commands[sent];
          sent += 1;
          if (next === undefined) done();
          else socket.write(`${next}\r\n`);
        }
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(replies);
    });
  });
}
