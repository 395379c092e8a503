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
  /** Source address per message instead (e.g. a new client address each time, to stay under per-client rate limits). */
  localAddressFor?: (message: number) => string;
  /** Open loop: start this many connections per second (one message each) instead of `concurrency` busy sessions. */
  arrivalsPerSecond?: number;
  /** Stop starting messages after this long (sustained load); `messages` stays an upper bound. */
  durationMs?: number;
  /**
   * An unmeasured warm-up before the `durationMs` window, in the same run (sessions stay busy
   * across it, no second burst of connects): latencies count only for connections started in the
   * window, `acceptedInWindow` only for 250s within it. Needs durationMs.
   */
  warmupMs?: number;
  /** Called when the measured window starts and ends (after warmupMs, and durationMs later). */
  onWindow?: (edge: 'start' | 'end') => void;
  /** Keep the Message-ID (without "@...") of every accepted message, to check delivery exactly once. */
  trackIds?: boolean;
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
  /** MAIL FROM to the 250 after the data: the SMTP transaction alone, without connecting and waiting for a free smtpd. */
  transactionMs: { p50: number; p90: number; p99: number; max: number };
  /** With durationMs: messages accepted within the first durationMs (the sustained window). */
  acceptedInWindow: number;
  /** Accepted at or after the start of the window (after the warm-up): the messages the window's CPU and drain are for. */
  acceptedAfterWarmup: number;
  /** Acceptance latency of every accepted message, warm-up included (the first burst of connects is in the warm-up). */
  latencyAllMs: { p50: number; p90: number; p99: number; max: number };
  /** With trackIds: the ids of the accepted messages, and of those accepted after the warm-up. */
  acceptedIds?: string[];
  acceptedIdsAfterWarmup?: string[];
  /** Wall-clock time when the first message started and the last one was accepted (Date.now()). */
  startedAt: number;
  endedAt: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const perConnection = o.perConnection ?? 1;
  const latencies: number[] = [];
  const latenciesAll: number[] = [];
  const transactions: number[] = [];
  let acceptedAfterWarmup = 0;
  const acceptedIds: string[] = [];
  const acceptedIdsAfterWarmup: string[] = [];
  let acceptedInWindow = 0;
  let next = 0;
  let accepted = 0;
  let rejected = 0;
  let errors = 0;
  let firstProblem: string | undefined;
  const startedAt = Date.now();
  const started = performance.now();
  const deadline = started + o.deadlineMs;
  const windowStart = started + (o.warmupMs ?? 0);
  const stopStarting = o.durationMs === undefined ? deadline : Math.min(deadline, windowStart + o.durationMs);
  const timers = o.onWindow
    ? [setTimeout(() => o.onWindow!('start'), windowStart - started), setTimeout(() => o.onWindow!('end'), stopStarting - started)]
    : [];
  const note = (problem: string) => (firstProblem ??= problem);

  /** One connection: `batch` messages from message number `first`. */
  const connection = async (first: number, batch: number, address: string | undefined): Promise<void> => {
    {
      let t0 = performance.now();
      let session: SmtpSession | undefined;
      try {
        session = await SmtpSession.open(o.host, o.port, 30_000, address);
        await session.ehlo(o.ehloName);
        if (o.tls) await session.startTls(o.tls.ca, o.tls.servername, o.ehloName);
        for (let i = 0; i < batch; i++) {
          const id = `${o.runId}.${first + i}`;
          const t1 = performance.now();
          const reply = await session.send(o.from, o.to, message(o.from, o.to, id, o.messageBytes));
          if (reply.code === 250) {
            accepted++;
            const t2 = performance.now();
            latenciesAll.push(t2 - t0);
            if (t0 >= windowStart) {
              latencies.push(t2 - t0);
              transactions.push(t2 - t1);
            }
            if (t2 >= windowStart) {
              acceptedAfterWarmup++;
              if (o.trackIds) acceptedIdsAfterWarmup.push(id);
            }
            if (t2 >= windowStart && t2 <= stopStarting) acceptedInWindow++;
            if (o.trackIds) acceptedIds.push(id);
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

  const worker = async (_: unknown, index: number): Promise<void> => {
    const localAddress = o.localAddresses?.[index];
    while (next < o.messages && performance.now() < stopStarting) {
      const batch = Math.min(perConnection, o.messages - next);
      const first = next;
      next += batch;
      await connection(first, batch, o.localAddressFor?.(first) ?? localAddress);
    }
  };

  if (o.arrivalsPerSecond) {
    // Open loop: a new connection every 1/rate seconds whatever the server does (as independent
    // application pods do), at most `concurrency` open at once (the rest count as errors).
    const pending = new Set<Promise<void>>();
    for (let i = 0; next < o.messages; i++) {
      const at = started + (i * 1000) / o.arrivalsPerSecond;
      if (at >= stopStarting) break;
      const wait = at - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const first = next;
      next += 1;
      if (pending.size >= o.concurrency) {
        errors++;
        note(`more than ${o.concurrency} sessions open at once`);
        continue;
      }
      const p = connection(first, 1, o.localAddressFor?.(first)).finally(() => pending.delete(p));
      pending.add(p);
    }
    await Promise.all(pending);
  } else await Promise.all(Array.from({ length: o.concurrency }, worker));
  for (const t of timers) clearTimeout(t);
  const elapsedMs = performance.now() - started;
  const summary = (values: number[]) => {
    const sorted = values.sort((a, b) => a - b);
    const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
    return { p50: pct(50), p90: pct(90), p99: pct(99), max: sorted[sorted.length - 1] ?? NaN };
  };
  return {
    concurrency: o.concurrency,
    attempted: next,
    accepted,
    rejected,
    errors,
    ...(firstProblem ? { firstProblem } : {}),
    elapsedMs,
    acceptedPerSecond: (accepted * 1000) / elapsedMs,
    acceptedInWindow,
    acceptedAfterWarmup,
    latencyMs: summary(latencies),
    latencyAllMs: summary(latenciesAll),
    transactionMs: summary(transactions),
    ...(o.trackIds ? { acceptedIds, acceptedIdsAfterWarmup } : {}),
    startedAt,
    endedAt: Date.now(),
  };
}
