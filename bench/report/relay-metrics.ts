import type { RelayConfigResult, RelayLevel, RelayResult } from '../relay/types';
import { maxFinite } from './pod-metrics';

/** Derived relay numbers shared by the goals table, the analysis and the chart. */

export const find = (relay: RelayResult | undefined, id: string): RelayConfigResult | undefined => relay?.configs.find((c) => c.id === id);

/** Delivered/s, or accepted/s for the ceiling (which delivers nothing). */
export const rate = (c: RelayConfigResult, l: RelayLevel): number => (c.config === 'ceiling' ? l.load.acceptedPerSecond : l.deliveredPerSecond);

export const peakRate = (c: RelayConfigResult | undefined): number => (c ? maxFinite(c.levels.map((l) => rate(c, l))) : NaN);

export const levelAt = (c: RelayConfigResult | undefined, concurrency: number): RelayLevel | undefined => c?.levels.find((l) => l.concurrency === concurrency);

/** CPU time of the Postfix container per accepted message (ms). */
export const cpuPerMessage = (l: RelayLevel | undefined): number => (l && l.load.accepted ? l.cpuMs.postfix / l.load.accepted : NaN);

/** The level with the most work, where per-message costs are steadiest. */
export const busiest = (c: RelayConfigResult | undefined): RelayLevel | undefined => c?.levels.reduce((a, b) => (b.load.accepted >= a.load.accepted ? b : a));

/** Delivered/s when draining the held backlog (relaying alone). */
export const drainRate = (c: RelayConfigResult | undefined): number => c?.drain?.deliveredPerSecond ?? NaN;
