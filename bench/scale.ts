import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { outputSize, synthEnv } from './app';
import { run } from './lib/proc';
import { linearFit, median, type LinearFit } from './lib/stats';

/**
 * synth of many generated environments: what one more environment costs, whether that cost stays
 * flat as the count grows, and how much memory a large synth needs.
 */

export interface ScalePoint {
  environments: number;
  runsMs: number[];
  medianMs: number;
  maxRssMiB: number;
  files: number;
  bytes: number;
}

export interface ScaleResult {
  points: ScalePoint[];
  fit: LinearFit;
  /** Marginal cost between consecutive sizes (ms per environment). */
  segments: { from: number; to: number; msPerEnvironment: number }[];
  /** Memory per environment from a line through (count, max RSS). */
  rssFit: LinearFit;
}

/** Writes `count` copies of the prod environment, each with its own namespace, hostname and Argo CD path. */
export function generateEnvironments(root: string, dir: string, count: number): void {
  mkdirSync(dir, { recursive: true });
  const template = readFileSync(join(root, 'environments', 'prod.yaml'), 'utf8');
  for (let i = 1; i <= count; i++) {
    const id = String(i).padStart(4, '0');
    const doc = parseDocument(template);
    doc.set('namespace', `email-server-bench-${id}`);
    doc.setIn(['mail', 'hostname'], `mail-${id}.bench.example.com`);
    if (doc.hasIn(['argocd', 'path'])) doc.setIn(['argocd', 'path'], `bench-${id}`);
    writeFileSync(join(dir, `bench-${id}.yaml`), doc.toString());
  }
}

export async function benchScale(root: string, appBundle: string, sizes: number[], repeats: number, log: (s: string) => void): Promise<ScaleResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const runs = new Map<number, { ms: number[]; rss: number[]; files: number; bytes: number }>();
  try {
    for (const n of sizes) {
      generateEnvironments(root, join(scratch, `envs-${n}`), n);
      runs.set(n, { ms: [], rss: [], files: 0, bytes: 0 });
    }
    // Sizes interleave (10, 100, 500, 10, 100, 500, ...) so slow phases of the machine spread over all.
    for (let rep = 0; rep < repeats; rep++) {
      for (const n of sizes) {
        const outdir = join(scratch, `out-${n}-${rep}`);
        const r = await run(process.execPath, [appBundle], { cwd: root, env: synthEnv(outdir, join(scratch, `envs-${n}`)), timeoutMs: 600_000 });
        const entry = runs.get(n)!;
        const size = outputSize(outdir);
        if (size.files === 0) throw new Error(`synth of ${n} environments wrote nothing into ${outdir}: does src/main.ts honour EMAIL_SERVER_ENVIRONMENTS_DIR and CDK8S_OUTDIR?`);
        entry.ms.push(r.ms);
        entry.rss.push(r.maxRssKiB ?? NaN);
        entry.files = size.files;
        entry.bytes = size.bytes;
        rmSync(outdir, { recursive: true, force: true });
        log(`scale ${n} environments, run ${rep + 1}/${repeats}: ${r.ms.toFixed(0)} ms, ${((r.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB, ${size.files} files`);
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const points: ScalePoint[] = sizes.map((n) => {
    const e = runs.get(n)!;
    return { environments: n, runsMs: e.ms, medianMs: median(e.ms), maxRssMiB: Math.max(...e.rss) / 1024, files: e.files, bytes: e.bytes };
  });
  const segments = points.slice(1).map((p, i) => {
    const prev = points[i]!;
    return { from: prev.environments, to: p.environments, msPerEnvironment: (p.medianMs - prev.medianMs) / (p.environments - prev.environments) };
  });
  return {
    points,
    fit: linearFit(points.map((p) => ({ x: p.environments, y: p.medianMs }))),
    segments,
    rssFit: linearFit(points.map((p) => ({ x: p.environments, y: p.maxRssMiB }))),
  };
}
