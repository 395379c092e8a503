import type { Proposal } from './app';
import type { LoadSummary, Machine } from './lib/machine';
import type { ProfileSummary } from './profile';
import type { RelayResult } from './relay/types';
import type { PodResult, PostfixUnderTest } from './relay/pod-types';
import type { Fingerprint } from './fingerprint';
import type { ScaleResult } from './scale';
import type { SynthResult } from './synth';
import type { SuiteTiming } from './tests';

/** Everything one `npm run bench` measured; saved as node_modules/.cache/email-server-bench/results.json and rendered into docs/PERFORMANCE.md. */
export interface BenchResults {
  startedAt: string;
  finishedAt: string;
  argv: string[];
  machine: Machine;
  load: LoadSummary;
  synth?: SynthResult & { profile?: ProfileSummary };
  scale?: ScaleResult & { profiles?: { title: string; environments: number; profile: ProfileSummary }[] };
  /** Changes the bench measures in its "proposed" bundle. */
  proposals?: Proposal[];
  relay?: RelayResult;
  /** What the relay figures were measured on (bench/fingerprint.ts). */
  fingerprint?: Fingerprint;
  /** Wall time of the whole run, ms. */
  tookMs?: number;
  /** The Postfix the relay and pod sections ran (absent in older results: the host's 3.7). */
  postfix?: PostfixUnderTest;
  /** The relay at the pod's own CPU and memory limits (cgroups). */
  pod?: PodResult;
  tests?: SuiteTiming[];
  /** Section name -> why it was not measured in this run. */
  skipped: Record<string, string>;
  /** The temporary folder of this run (TMPDIR for the bench and everything it starts), relative to the checkout. */
  scratch?: string;
  /** ms to create one small file, in the system's temp dir and in the run's temp folder. */
  fileCreate?: { systemTmp: { dir: string; ms: number }; scratch: { dir: string; ms: number } };
}

/** The goals of issue 8. */
export const GOALS = {
  synthRatio: 3.0,
  msPerEnvironment: 10,
  prodOverStock: 3.0,
  prodOverCeiling: 0.8,
  memoryShareOfLimit: 0.5,
} as const;
