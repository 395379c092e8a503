import type { ReceivedMessage } from '../harness';
import { ATTEMPT_HEADER, type Attempt } from './generator';

/**
 * What happened to every message the relay accepted with a 250, from the sink's delivery
 * counts and the attempts still in the queue:
 *  - deliveredOnce: exactly one delivery of that attempt;
 *  - duplicated: more than one delivery of the same attempt (Postfix re-sent it);
 *  - stillQueued: not delivered, but its queue file is still there (retried later, not lost);
 *  - lost: neither delivered nor queued. Must be 0.
 * Attempts that got no 250 but were delivered anyway are counted apart: the client re-submitted
 * them, so the application sees its message twice (the SMTP "lost 250" window, RFC 1047).
 */
export interface Verdict {
  readonly accepted: number;
  readonly deliveredOnce: number;
  readonly duplicated: number;
  /** Extra copies delivered beyond the first, over all duplicated attempts. */
  readonly extraCopies: number;
  readonly stillQueued: number;
  readonly lost: readonly Attempt[];
  readonly deliveredWithout250: number;
  /** Deliveries whose attempt id the generator never made (must be 0: foreign or corrupt mail). */
  readonly unknownDeliveries: number;
}

export function judge(attempts: readonly Attempt[], delivered: ReadonlyMap<string, number>, queued: ReadonlySet<string>): Verdict {
  let deliveredOnce = 0;
  let duplicated = 0;
  let extraCopies = 0;
  let stillQueued = 0;
  let deliveredWithout250 = 0;
  const lost: Attempt[] = [];
  const known = new Set<string>();
  let accepted = 0;
  for (const a of attempts) {
    known.add(a.attempt);
    const count = delivered.get(a.attempt) ?? 0;
    if (!a.accepted) {
      if (count > 0) deliveredWithout250++;
      continue;
    }
    accepted++;
    if (count === 1) deliveredOnce++;
    else if (count > 1) {
      duplicated++;
      extraCopies += count - 1;
    } else if (queued.has(a.attempt)) stillQueued++;
    else lost.push(a);
  }
  let unknownDeliveries = 0;
  for (const [attempt, count] of delivered) if (!known.has(attempt)) unknownDeliveries += count;
  return { accepted, deliveredOnce, duplicated, extraCopies, stillQueued, lost, deliveredWithout250, unknownDeliveries };
}

/** How many times the sink received each attempt id. */
export function deliveryCounts(messages: readonly ReceivedMessage[]): Map<string, number> {
  const name = ATTEMPT_HEADER.toLowerCase();
  const counts = new Map<string, number>();
  for (const m of messages) {
    const attempt = m.headers.find(([h]) => h === name)?.[1] ?? '';
    counts.set(attempt, (counts.get(attempt) ?? 0) + 1);
  }
  return counts;
}

/**
 * Splits duplicated attempts into those whose copies straddle one of `crashTimes` (a copy
 * received before the crash and another after it: the "delivered, but not yet recorded" window)
 * and the others, which nothing explains.
 */
export function duplicatesAroundCrashes(
  messages: readonly ReceivedMessage[],
  crashTimes: readonly number[],
): { readonly straddling: number; readonly unexplained: readonly string[] } {
  const name = ATTEMPT_HEADER.toLowerCase();
  const times = new Map<string, number[]>();
  for (const m of messages) {
    const attempt = m.headers.find(([h]) => h === name)?.[1] ?? '';
    times.set(attempt, [...(times.get(attempt) ?? []), m.receivedAt]);
  }
  let straddling = 0;
  const unexplained: string[] = [];
  for (const [attempt, list] of times) {
    if (list.length < 2) continue;
    const first = Math.min(...list);
    const last = Math.max(...list);
    if (crashTimes.some((t) => first <= t && t < last)) straddling++;
    else {
      const at = (t: number) => new Date(t).toISOString().slice(11, 23);
      unexplained.push(`${attempt}: copies at ${list.map(at).join(', ')}; crashes at ${crashTimes.map(at).join(', ')}`);
    }
  }
  return { straddling, unexplained };
}

/** What a run that claims "nothing lost" is judged on, after its final flush. */
export interface Outcome {
  readonly verdict: Verdict;
  /** Messages left in the queue after the final flush. */
  readonly leftInQueue: number;
  /** Messages the sink received, and how many of them over TLS. */
  readonly deliveries: number;
  readonly tlsDeliveries: number;
  /** Crash scenarios only: a message may arrive twice, once on each side of a crash. */
  readonly duplicatesAllowed?: boolean;
}

/**
 * Why a run does NOT show "nothing lost" (empty: it does). Nothing lost means: every message
 * accepted with a 250 is at the sink (exactly once unless duplicates are allowed), the queue
 * is empty, and every claim over the deliveries holds over some deliveries: a relay that
 * delivers nothing must not pass "every delivery used TLS".
 */
export function lossProblems(o: Outcome): string[] {
  const v = o.verdict;
  const problems: string[] = [];
  if (v.accepted === 0) problems.push('no message was accepted: the run proves nothing');
  if (v.lost.length) problems.push(`${v.lost.length} accepted message(s) neither delivered nor queued: ${v.lost.slice(0, 5).map((a) => `${a.attempt} (${a.queueId})`).join(', ')}`);
  if (v.stillQueued) problems.push(`${v.stillQueued} accepted message(s) still queued, never delivered`);
  if (o.leftInQueue) problems.push(`${o.leftInQueue} message(s) left in the queue after the final flush`);
  if (v.deliveredOnce + v.duplicated !== v.accepted) problems.push(`${v.deliveredOnce + v.duplicated} of ${v.accepted} accepted messages delivered`);
  if (v.duplicated && !o.duplicatesAllowed) problems.push(`${v.duplicated} message(s) delivered more than once`);
  if (v.unknownDeliveries) problems.push(`${v.unknownDeliveries} delivery(ies) of mail the generator never sent`);
  if (o.deliveries < v.accepted) problems.push(`the sink received ${o.deliveries} message(s) for ${v.accepted} accepted`);
  if (o.deliveries === 0) problems.push('the sink received nothing: "every delivery used TLS" would hold vacuously');
  if (o.tlsDeliveries !== o.deliveries) problems.push(`${o.deliveries - o.tlsDeliveries} of ${o.deliveries} deliveries without TLS`);
  return problems;
}
