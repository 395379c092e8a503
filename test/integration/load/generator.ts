import { createTransport, type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';

/**
 * Load generator: `concurrency` SMTP clients, each on its own loopback address (per-client
 * rate limits apply per address, as they would to separate application pods), send `total`
 * messages between them. A message that does not get a 250 is submitted again after a short
 * pause, as an application would: every submission is an "attempt" with its own header value,
 * so the sink can tell a Postfix re-delivery (same attempt twice) from a client re-submission
 * (two attempts of one message). The queue id of each 250 reply is recorded.
 */

/** Header on every submission: one value per attempt, `<run>-<message>-<attempt number>`. */
export const ATTEMPT_HEADER = 'X-Load-Attempt';

export interface Attempt {
  readonly seq: number;
  readonly client: number;
  readonly attempt: string;
  readonly messageId: string;
  readonly accepted: boolean;
  /** From "250 2.0.0 Ok: queued as <id>". */
  readonly queueId?: string;
  readonly reply?: string;
  readonly error?: string;
  /** SMTP code of a refusal (e.g. 421 from a draining relay), when there was one. */
  readonly code?: number;
}

export interface Milestone {
  /** Run `action` once this many messages have been accepted (not awaited by the clients). */
  readonly accepted: number;
  /** Returns a note for the run's record (what it did, what it saw). */
  readonly action: () => Promise<string>;
}

export interface LoadOptions {
  readonly port: number;
  readonly total: number;
  readonly concurrency: number;
  readonly runId: string;
  readonly from: string;
  readonly to: string;
  /** Source address of client i (127.0.0.x); 127.0.0.1 for every client when absent. */
  readonly clientAddress?: (client: number) => string;
  /** The run stops submitting at this time (Date.now() value) even if messages are left. */
  readonly deadline: number;
  /** Stops submitting earlier, when this returns true (checked before every attempt). */
  readonly shouldStop?: () => boolean;
  readonly retryDelayMs?: number;
  readonly milestones?: readonly Milestone[];
}

export interface LoadResult {
  readonly attempts: readonly Attempt[];
  readonly accepted: readonly Attempt[];
  /** Messages that never got a 250 before the deadline. */
  readonly neverAccepted: number;
  /** "after <n> accepted: <note>" for every milestone, in order. */
  readonly notes: readonly string[];
  readonly wallMs: number;
}

const QUEUED_AS = /queued as ([0-9A-Za-z]+)/;

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const started = Date.now();
  const attempts: Attempt[] = [];
  const accepted: Attempt[] = [];
  const pendingMilestones = [...(options.milestones ?? [])].sort((a, b) => a.accepted - b.accepted);
  const milestoneRuns: Promise<string>[] = [];
  const retryDelay = options.retryDelayMs ?? 200;
  let neverAccepted = 0;

  const fireMilestones = () => {
    while (pendingMilestones.length > 0 && accepted.length >= pendingMilestones[0]!.accepted) {
      const m = pendingMilestones.shift()!;
      milestoneRuns.push(m.action().then((note) => `after ${m.accepted} accepted: ${note}`));
    }
  };

  const client = async (index: number) => {
    const transport = createTransport({
      host: '127.0.0.1',
      port: options.port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 1,
      maxMessages: Infinity,
      localAddress: options.clientAddress?.(index) ?? '127.0.0.1',
      name: `client${index}.example.com`,
      connectionTimeout: 5_000,
      greetingTimeout: 5_000,
      socketTimeout: 10_000,
    } as SMTPTransport.Options);
    try {
      for (let seq = index; seq < options.total; seq += options.concurrency) {
        const messageId = `<load-${options.runId}-${seq}@example.com>`;
        for (let n = 1; ; n++) {
          if (Date.now() >= options.deadline || options.shouldStop?.()) {
            neverAccepted++;
            break;
          }
          const attempt = `${options.runId}-${seq}-${n}`;
          const record = await submit(transport, options, seq, index, attempt, messageId);
          attempts.push(record);
          if (record.accepted) {
            accepted.push(record);
            fireMilestones();
            break;
          }
          await sleep(retryDelay);
        }
      }
    } finally {
      transport.close();
    }
  };

  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => client(i)));
  const notes = await Promise.all(milestoneRuns);
  return { attempts, accepted, neverAccepted, notes, wallMs: Date.now() - started };
}

async function submit(
  transport: Transporter<SMTPTransport.SentMessageInfo>,
  options: LoadOptions,
  seq: number,
  client: number,
  attempt: string,
  messageId: string,
): Promise<Attempt> {
  try {
    const info = await transport.sendMail({
      envelope: { from: options.from, to: [options.to] },
      from: options.from,
      to: options.to,
      subject: `load ${options.runId} #${seq}`,
      messageId,
      headers: { [ATTEMPT_HEADER]: attempt },
      text: `Load test message ${seq} of run ${options.runId}, attempt ${attempt}.\n`,
    });
    const queueId = QUEUED_AS.exec(info.response)?.[1];
    const ok = info.response.startsWith('250') && queueId !== undefined;
    return { seq, client, attempt, messageId, accepted: ok, reply: info.response, ...(queueId ? { queueId } : {}) };
  } catch (err) {
    const code = (err as { responseCode?: number }).responseCode;
    return { seq, client, attempt, messageId, accepted: false, error: (err as Error).message, ...(code ? { code } : {}) };
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
