import { message, SmtpSession } from './smtp-client';

/**
 * `concurrency` clients send `messages` messages in total, one message per connection (as most
 * application mail libraries do), and time each one from connect to the 250 after the data.
 * A deadline bounds the run: whatever is unsent by then is reported, not waited for.
 */

export interface LoadOptions {
  host: string;
  port: number;
  concurrency: number;
  messages: number;
  messageBytes: number;
  from: string;
  to: string;
  ehloName: string;
  deadlineMs: number;
  /** Messages per connection (1 unless a client pools connections). */
  perConnection?: number;
  /** STARTTLS with this CA and server name (the sink measured alone). */
  tls?: { ca: string; servername: string };
  /** Prefix of the Message-IDs, so a sink can tell runs apart. */
  runId: string;
  /** Source address of each client (index = client number); the system's choice when missing. */
  localAddresses?: string[];
}

export interface LoadResult {
  concurrency: number;
  attempted: number;
  accepted: number;
  rejected: number;
  errors: number;
  firstProblem?: string;
  elapsedMs: number;
  /** Accepted messages per second, client side. */
  acceptedPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Wall-clock time when the first message started and the last one was accepted (Date.now()). */
  startedAt: number;
  endedAt: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const perConnection = o.perConnection ?? 1;
  const latencies: number[] = [];
  let next = 0;
  let accepted = 0;
  let rejected = 0;
  let errors = 0;
  let firstProblem: string | undefined;
  const startedAt = Date.now();
  const started = performance.now();
  const deadline = started + o.deadlineMs;
  const note = (problem: string) => (firstProblem ??= problem);

  const worker = async (_: unknown, index: number): Promise<void> => {
    const localAddress = o.localAddresses?.[index];
    while (next < o.messages && performance.now() < deadline) {
      const batch = Math.min(perConnection, o.messages - next);
      const first = next;
      next += batch;
      let t0 = performance.now();
      let session: SmtpSession | undefined;
      try {
        session = await SmtpSession.open(o.host, o.port, 30_000, localAddress);
        await session.ehlo(o.ehloName);
        if (o.tls) await session.startTls(o.tls.ca, o.tls.servername, o.ehloName);
        for (let i = 0; i < batch; i++) {
          const id = `${o.runId}.${first + i}`;
          const reply = await session.send(o.from, o.to, message(o.from, o.to, id, o.messageBytes));
          if (reply.code === 250) {
            accepted++;
            latencies.push(performance.now() - t0);
          } else {
            rejected++;
            note(reply.text);
          }
          t0 = performance.now();
        }
        await session.quit();
      } catch (err) {
        errors += batch;
        note((err as Error).message);
        session?.destroy();
      }
    }
  };

  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedMs = performance.now() - started;
  const sorted = latencies.sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
  return {
    concurrency: o.concurrency,
    attempted: next,
    accepted,
    rejected,
    errors,
    ...(firstProblem ? { firstProblem } : {}),
    elapsedMs,
    acceptedPerSecond: (accepted * 1000) / elapsedMs,
    latencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), max: sorted[sorted.length - 1] ?? NaN },
    startedAt,
    endedAt: Date.now(),
  };
}
