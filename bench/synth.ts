import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outputSize, packageScripts, synthEnv, type AppBundles } from './app';
import { run } from './lib/proc';
import { median, percentile } from './lib/stats';

/**
 * synth against the floor: the time Node needs just to load cdk8s-plus-28, which every cdk8s app
 * pays. The variants run interleaved (floor, variant, floor, variant, ...) in every round, so a
 * neighbour's burst of load hits both sides of a ratio alike.
 */

export interface Variant {
  id: string;
  label: string;
  command: string;
  args: string[];
  /** Writes manifests into CDK8S_OUTDIR: checked after the warm-up round. */
  writes: boolean;
}

export interface VariantResult {
  id: string;
  label: string;
  command: string;
  runsMs: number[];
  medianMs: number;
  /** Median user + system CPU time (less sensitive to the neighbours than wall time). */
  medianCpuMs: number;
  p90Ms: number;
  /** Median over rounds of (this run / the floor run just before it). */
  medianRatio: number;
  maxRssMiB: number;
  output?: { files: number; bytes: number };
}

export interface SynthResult {
  rounds: number;
  /** The package.json synth script that `npm run synth` runs. */
  script: string;
  /** Packages the app bundle loads from node_modules at run time. */
  externals: string[];
  floor: VariantResult;
  variants: VariantResult[];
}

export function synthVariants(root: string, app: AppBundles): Variant[] {
  const script = packageScripts(root).synth ?? '';
  return [
    { id: 'npm', label: `\`npm run synth\` (README; runs \`${script}\`)`, command: 'npm', args: ['run', '--silent', 'synth'], writes: true },
    { id: 'node', label: 'diagnostic: the app bundle under plain node (no npm, no bundling, no V8 code cache)', command: process.execPath, args: [app.current], writes: true },
    {
      id: 'deps',
      label: 'diagnostic: the floor plus loading every package the app requires',
      command: process.execPath,
      // The floor's own package first, so this is the floor plus everything else the app loads.
      args: ['-e', ['cdk8s-plus-28', ...app.externals].map((m) => `require(${JSON.stringify(m)})`).join(';')],
      writes: false,
    },
    { id: 'direct', label: `diagnostic: the synth script without npm (\`${script}\`)`, command: 'sh', args: ['-c', script], writes: true },
    ...(app.proposed ? [{ id: 'proposed', label: 'proposed: the app bundled with the changes listed at the top', command: process.execPath, args: [app.proposed], writes: true }] : []),
    { id: 'cdk8s', label: '`npx cdk8s synth` end to end', command: 'npx', args: ['cdk8s', 'synth', '--no-check-upgrade'], writes: true },
  ];
}

const FLOOR: Variant = {
  id: 'floor',
  label: "floor: `node -e \"require('cdk8s-plus-28')\"`",
  command: process.execPath,
  args: ['-e', "require('cdk8s-plus-28')"],
  writes: false,
};

export async function benchSynth(root: string, variants: Variant[], externals: string[], rounds: number, log: (s: string) => void): Promise<SynthResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-synth-'));
  const samples = new Map<string, { ms: number[]; cpu: number[]; rss: number[]; ratio: number[] }>();
  for (const v of [FLOOR, ...variants]) samples.set(v.id, { ms: [], cpu: [], rss: [], ratio: [] });
  const outputs = new Map<string, { files: number; bytes: number }>();
  try {
    // Round 0 warms the page cache and npm's/npx's lookups; it is not counted.
    for (let round = 0; round <= rounds; round++) {
      for (const v of variants) {
        const floor = await run(FLOOR.command, FLOOR.args, { cwd: root });
        const outdir = join(scratch, `${v.id}-${round}`);
        // cdk8s' CLI takes the folder as -o and hands it to the app as CDK8S_OUTDIR.
        const args = v.id === 'cdk8s' ? [...v.args, '-o', outdir] : v.args;
        const r = await run(v.command, args, { cwd: root, env: synthEnv(outdir), timeoutMs: 120_000 });
        if (round === 0) {
          const size = outputSize(outdir);
          if (v.writes && size.files === 0) throw new Error(`${v.label} wrote nothing into CDK8S_OUTDIR=${outdir}: does src/main.ts honour CDK8S_OUTDIR?`);
          outputs.set(v.id, size);
          continue;
        }
        // Outputs stay until the end (DELETE_LATER in bench/scale.ts).
        const f = samples.get(FLOOR.id)!;
        f.ms.push(floor.ms);
        f.cpu.push(floor.cpuMs ?? NaN);
        f.rss.push(floor.maxRssKiB ?? NaN);
        const s = samples.get(v.id)!;
        s.ms.push(r.ms);
        s.cpu.push(r.cpuMs ?? NaN);
        s.rss.push(r.maxRssKiB ?? NaN);
        s.ratio.push(r.ms / floor.ms);
      }
      if (round > 0) log(`synth round ${round}/${rounds}: ${variants.map((v) => `${v.id} ${last(samples.get(v.id)!.ms).toFixed(0)} ms`).join(', ')}, floor ${last(samples.get('floor')!.ms).toFixed(0)} ms`);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const summarize = (v: Variant): VariantResult => {
    const s = samples.get(v.id)!;
    const out = outputs.get(v.id);
    return {
      id: v.id,
      label: v.label,
      command: [v.command === process.execPath ? 'node' : v.command, ...v.args].join(' '),
      runsMs: s.ms,
      medianMs: median(s.ms),
      medianCpuMs: median(s.cpu),
      p90Ms: percentile(s.ms, 90),
      medianRatio: v.id === FLOOR.id ? 1 : median(s.ratio),
      maxRssMiB: Math.max(...s.rss) / 1024,
      ...(out ? { output: out } : {}),
    };
  };
  return { rounds, script: packageScripts(root).synth ?? '', externals, floor: summarize(FLOOR), variants: variants.map(summarize) };
}

const last = (values: number[]): number => values[values.length - 1] ?? NaN;
