import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
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
  /** The run was stopped at the time budget: medianMs is a lower bound. */
  timedOut: boolean;
}

export interface ScaleSeries {
  id: string;
  label: string;
  points: ScalePoint[];
  /** Least squares over the sizes that finished. */
  fit: LinearFit;
  /** Marginal cost between consecutive sizes (ms per environment). */
  segments: { from: number; to: number; msPerEnvironment: number }[];
  /** Memory per environment from a line through (count, max RSS). */
  rssFit: LinearFit;
}

export interface ScaleResult {
  budgetMs: number;
  series: ScaleSeries[];
  /** What creating one small file costs on the output's file system (ms), measured alone. */
  fileCreateMs: number;
}

export interface ScaleApp {
  id: string;
  label: string;
  bundle: string;
  /** Where its output goes (default: the temp dir, on this machine's disk), e.g. a tmpfs. */
  outRoot?: string;
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

/**
 * DELETE_LATER: outputs are deleted only when every run is over. On the machine this bench was
 * written on (ext4 mounted with online discard), creating files is 10-20x slower for tens of
 * seconds after thousands of files were deleted: deleting one run's output would slow the next run.
 */
export async function benchScale(
  root: string,
  apps: ScaleApp[],
  sizes: number[],
  repeats: number,
  budgetMs: number,
  log: (s: string) => void,
): Promise<ScaleResult> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-scale-'));
  const outRoots = new Map(apps.filter((a) => a.outRoot).map((a) => [a.id, mkdtempSync(join(a.outRoot!, 'bench-scale-'))]));
  const runs = new Map<string, { ms: number[]; rss: number[]; files: number; bytes: number; timedOut: boolean }>();
  const key = (app: ScaleApp, n: number) => `${app.id}:${n}`;
  try {
    for (const n of sizes) generateEnvironments(root, join(scratch, `envs-${n}`), n);
    for (const app of apps) for (const n of sizes) runs.set(key(app, n), { ms: [], rss: [], files: 0, bytes: 0, timedOut: false });
    // Sizes and apps interleave (10, 100, 500, 10, 100, 500, ...) so slow phases of the machine spread over all.
    for (let rep = 0; rep < repeats; rep++) {
      for (const n of sizes) {
        for (const app of apps) {
          const entry = runs.get(key(app, n))!;
          if (entry.timedOut) continue;
          const outdir = join(outRoots.get(app.id) ?? scratch, `out-${app.id}-${n}-${rep}`);
          const started = performance.now();
          try {
            const r = await run(process.execPath, [app.bundle], { cwd: root, env: synthEnv(outdir, join(scratch, `envs-${n}`)), timeoutMs: budgetMs });
            const size = outputSize(outdir);
            if (size.files === 0) throw new Error(`synth of ${n} environments wrote nothing into ${outdir}: does src/main.ts honour EMAIL_SERVER_ENVIRONMENTS_DIR and CDK8S_OUTDIR?`);
            entry.ms.push(r.ms);
            entry.rss.push(r.maxRssKiB ?? NaN);
            entry.files = size.files;
            entry.bytes = size.bytes;
            log(`scale ${app.id}, ${n} environments, run ${rep + 1}/${repeats}: ${r.ms.toFixed(0)} ms, ${((r.maxRssKiB ?? 0) / 1024).toFixed(0)} MiB, ${size.files} files`);
          } catch (err) {
            const elapsed = performance.now() - started;
            if (elapsed < budgetMs * 0.95) throw err;
            entry.timedOut = true;
            entry.ms.push(elapsed);
            log(`scale ${app.id}, ${n} environments: stopped at the ${budgetMs / 1000} s budget`);
          }
          // No rmSync(outdir) here: see DELETE_LATER.
        }
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    for (const dir of outRoots.values()) rmSync(dir, { recursive: true, force: true });
  }
  return {
    budgetMs,
    fileCreateMs: fileCreateCost(),
    series: apps.map((app) => {
      const points: ScalePoint[] = sizes.map((n) => {
        const e = runs.get(key(app, n))!;
        return { environments: n, runsMs: e.ms, medianMs: median(e.ms), maxRssMiB: maxOrNaN(e.rss) / 1024, files: e.files, bytes: e.bytes, timedOut: e.timedOut };
      });
      const done = points.filter((p) => !p.timedOut);
      const segments = done.slice(1).map((p, i) => {
        const prev = done[i]!;
        return { from: prev.environments, to: p.environments, msPerEnvironment: (p.medianMs - prev.medianMs) / (p.environments - prev.environments) };
      });
      return {
        id: app.id,
        label: app.label,
        points,
        fit: linearFit(done.map((p) => ({ x: p.environments, y: p.medianMs }))),
        segments,
        rssFit: linearFit(done.map((p) => ({ x: p.environments, y: p.maxRssMiB }))),
      };
    }),
  };
}

function maxOrNaN(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length ? Math.max(...finite) : NaN;
}

/** Creates 1000 files of 2 KiB in folders of 29 (one environment's worth) under `parent`, as a synth writes its output. */
export function fileCreateCost(parent = tmpdir()): number {
  const dir = mkdtempSync(join(parent, 'bench-files-'));
  try {
    const text = 'x'.repeat(2048);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) {
      const folder = join(dir, String(Math.floor(i / 29)));
      if (i % 29 === 0) mkdirSync(folder);
      writeFileSync(join(folder, `${i}.yaml`), text);
    }
    return (performance.now() - started) / 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
