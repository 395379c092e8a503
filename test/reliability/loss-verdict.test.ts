import { describe, expect, it } from 'vitest';
import type { Attempt } from '../integration/load/generator';
import { judge, lossProblems, type Outcome } from '../integration/load/verdict';

// The "nothing lost" verdict of the reliability load test (test/integration/reliability-load),
// checked here on made-up runs, fast: a relay that holds every message, or delivers nothing,
// must fail it; only a run with every accepted message at the sink and the queue empty passes.
const attempts: Attempt[] = Array.from({ length: 10 }, (_, i) => ({
  seq: i,
  client: i % 2,
  attempt: `run-${i}-1`,
  messageId: `m${i}`,
  accepted: true,
  queueId: `Q${i}`,
}));
const all = (count = 1) => new Map(attempts.map((a) => [a.attempt, count]));
const outcome = (delivered: Map<string, number>, queued: Set<string>, extra: Partial<Outcome> = {}): Outcome => {
  const deliveries = [...delivered.values()].reduce((a, b) => a + b, 0);
  return { verdict: judge(attempts, delivered, queued), leftInQueue: queued.size, deliveries, tlsDeliveries: deliveries, ...extra };
};

describe('lossProblems: what "nothing lost" requires', () => {
  it('passes a run where every accepted message arrived once over TLS and the queue is empty', () => {
    expect(lossProblems(outcome(all(), new Set()))).toEqual([]);
  });

  it('fails a relay that holds every message (all still queued, nothing delivered)', () => {
    const problems = lossProblems(outcome(new Map(), new Set(attempts.map((a) => a.attempt))));
    expect(problems).toEqual(
      expect.arrayContaining([
        '10 accepted message(s) still queued, never delivered',
        '10 message(s) left in the queue after the final flush',
        'the sink received nothing: "every delivery used TLS" would hold vacuously',
      ]),
    );
  });

  it('fails mail still queued even when the rest arrived', () => {
    const delivered = all();
    delivered.delete('run-3-1');
    expect(lossProblems(outcome(delivered, new Set(['run-3-1'])))).toEqual([
      '1 accepted message(s) still queued, never delivered',
      '1 message(s) left in the queue after the final flush',
      '9 of 10 accepted messages delivered',
      'the sink received 9 message(s) for 10 accepted',
    ]);
  });

  it('fails a message neither delivered nor queued', () => {
    const delivered = all();
    delivered.delete('run-7-1');
    expect(lossProblems(outcome(delivered, new Set()))[0]).toBe('1 accepted message(s) neither delivered nor queued: run-7-1 (Q7)');
  });

  it('fails duplicates unless the scenario allows them (crashes)', () => {
    expect(lossProblems(outcome(all(2), new Set()))).toEqual(['10 message(s) delivered more than once']);
    expect(lossProblems(outcome(all(2), new Set(), { duplicatesAllowed: true }))).toEqual([]);
  });

  it('fails a delivery without TLS, and a run where nothing was accepted', () => {
    expect(lossProblems(outcome(all(), new Set(), { tlsDeliveries: 9 }))).toEqual(['1 of 10 deliveries without TLS']);
    const none: Outcome = { verdict: judge([], new Map(), new Set()), leftInQueue: 0, deliveries: 0, tlsDeliveries: 0 };
    expect(lossProblems(none)).toEqual(['no message was accepted: the run proves nothing', 'the sink received nothing: "every delivery used TLS" would hold vacuously']);
  });

  it('fails deliveries of mail the generator never sent', () => {
    const delivered = all();
    delivered.set('foreign', 1);
    expect(lossProblems(outcome(delivered, new Set()))).toEqual(['1 delivery(ies) of mail the generator never sent']);
  });
});
