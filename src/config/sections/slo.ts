import { z } from 'zod';
import { duration } from '../formats';
import { seconds } from './durations';

/**
 * Service level objectives (docs/SLO.md). Each SLO has an objective (a percentage of good events
 * over a rolling window) and gets the multiwindow, multi-burn-rate alerts of Google's SRE
 * Workbook ("Alerting on SLOs"), rendered by src/monitoring/slo.ts.
 */

/**
 * The workbook's alert table: an alert fires when both the long and the short window burn the
 * budget faster than `budgetFraction` of it in `long`. For a 30-day window that is a burn rate
 * of 14.4, 6 and 1; other windows scale the rate (same share of the budget, same windows).
 */
export const BURN_ALERTS = [
  { key: 'FastBurn', severity: 'critical', long: '1h', short: '5m', budgetFraction: 0.02 },
  { key: 'SlowBurn', severity: 'critical', long: '6h', short: '30m', budgetFraction: 0.05 },
  { key: 'BudgetAtRisk', severity: 'warning', long: '3d', short: '6h', budgetFraction: 0.1 },
] as const;

export type BurnAlert = (typeof BURN_ALERTS)[number];

/** The longest window an alert looks at: an SLO window must be at least this long. */
export const LONGEST_ALERT_WINDOW = '3d';

/** Burn rate at which `alert` fires for an SLO over `window` (14.4, 6, 1 for 30d). */
export function burnRate(alert: Pick<BurnAlert, 'long' | 'budgetFraction'>, window: string): number {
  return Number(((alert.budgetFraction * seconds(window)) / seconds(alert.long)).toPrecision(12));
}

/** The error budget as a ratio: 99.9 -> 0.001 (decimal-exact for objectives with few digits). */
export function errorBudget(objectivePercent: number): number {
  return Number(((100 - objectivePercent) / 100).toPrecision(12));
}

/** Buckets of postfix_showq_message_age_seconds that a latency threshold can sit on. */
export const LATENCY_THRESHOLDS = [10, 100, 1000, 10000, 100000] as const;

const objective = (value: number) =>
  z
    .number()
    .gt(0, { message: 'must be a percentage above 0 and below 100, such as 99.9' })
    .lt(100, { message: 'must be a percentage above 0 and below 100, such as 99.9 (100% leaves no error budget)' })
    .default(value);

const window = duration.default('30d');

export const sloSection = z
  .object({
    availability: z
      .object({
        enabled: z.boolean().default(true).describe('Record the availability SLI and alert on its error budget.'),
        objective: objective(99.9).describe(
          'Percentage of the window in which clients can hold an SMTP conversation with the relay (from the probe; without one, from target health: a weaker signal, see docs/SLO.md).',
        ),
        window: window.describe('Rolling window of the objective (at least 3d, the longest alert window).'),
      })
      .strict()
      .prefault({})
      .describe('Availability: can a client reach the relay and have mail accepted?'),
    delivery: z
      .object({
        enabled: z.boolean().default(true).describe('Record the delivery SLI and alert on its error budget (needs the exporter: metrics.enabled and serviceMonitor.enabled).'),
        objective: objective(99.9).describe(
          'Percentage of messages handed to the relay (Google) without a bounce or an expiry the relay caused.',
        ),
        window: window.describe('Rolling window of the objective (at least 3d, the longest alert window).'),
        senderFaultDsns: z
          .array(z.string().regex(/^5(\.[0-9]{1,3}){1,2}$/, { message: 'must be a permanent DSN class or code such as 5.1 or 5.3.4' }))
          .default(['5.1', '5.2', '5.3.4', '5.6'])
          .describe(
            'Bounces with these enhanced status codes (a class such as 5.1, or a code such as 5.3.4) are the sender\'s doing (unknown recipient, full mailbox, message too large, bad content): they count neither for nor against the relay.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Delivery: of the messages the relay accepted, how many it handed to Google without a bounce or expiry of its own making.'),
    latency: z
      .object({
        enabled: z.boolean().default(false).describe('Record the latency SLI (from the queue-age histogram) and alert on its error budget.'),
        objective: objective(99).describe('Percentage of the window in which no queued message is older than slo.latency.thresholdSeconds.'),
        window: window.describe('Rolling window of the objective (at least 3d, the longest alert window).'),
        thresholdSeconds: z
          .number()
          .refine((n) => (LATENCY_THRESHOLDS as readonly number[]).includes(n), {
            message: `must be a bucket of postfix_showq_message_age_seconds: one of ${LATENCY_THRESHOLDS.join(', ')}`,
          })
          .default(1000)
          .describe('A minute is good when no queued message has waited longer than this many seconds.'),
      })
      .strict()
      .prefault({})
      .describe('Latency: how often mail waits in the queue longer than a threshold.'),
  })
  .strict();

type Issue = (path: (string | number)[], message: string) => void;

interface SloView {
  readonly slo: z.output<typeof sloSection>;
}

/** Cross-field checks of `slo` (called from the schema's superRefine). */
export function checkSlo(env: SloView, issue: Issue): void {
  for (const [name, slo] of Object.entries(env.slo)) {
    const validObjective = slo.objective > 0 && slo.objective < 100;
    if (validObjective && slo.objective <= 1) {
      issue(['slo', name, 'objective'], `${slo.objective} looks like a ratio: objectives are percentages (write 99.9 for 99.9%)`);
      continue;
    }
    if (!duration.safeParse(slo.window).success) continue; // its own format message is reported
    if (seconds(slo.window) < seconds(LONGEST_ALERT_WINDOW)) {
      issue(
        ['slo', name, 'window'],
        `${slo.window} is shorter than the longest alert window (${LONGEST_ALERT_WINDOW}, the budget-at-risk ticket): use ${LONGEST_ALERT_WINDOW} or more (30d is usual)`,
      );
      continue;
    }
    if (!validObjective) continue;
    const fastest = BURN_ALERTS.reduce((a, b) => (burnRate(a, slo.window) >= burnRate(b, slo.window) ? a : b));
    const rate = burnRate(fastest, slo.window);
    const budget = errorBudget(slo.objective);
    if (rate * budget >= 1) {
      const minimum = Number((100 - 100 / rate).toPrecision(4));
      issue(
        ['slo', name, 'objective'],
        `${slo.objective} leaves an error budget of ${Number((budget * 100).toPrecision(6))}%: the ${fastest.long} page fires at ${rate}x that (an error ratio of ${Number((rate * budget * 100).toPrecision(4))}%), which can never happen; choose an objective above ${minimum} or a shorter slo.${name}.window`,
      );
    }
  }
}
