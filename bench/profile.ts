import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthEnv } from './app';
import { run } from './lib/proc';

/**
 * Where a synth spends its time: a V8 CPU profile (`node --cpu-prof`) of one run, with self time
 * summed per package (or per project file) and per function.
 */

export interface ProfileSummary {
  totalMs: number;
  byOwner: { owner: string; ms: number; share: number }[];
  topFunctions: { name: string; owner: string; ms: number }[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
}

export async function profileSynth(root: string, appBundle: string, environmentsDir?: string): Promise<ProfileSummary> {
  const scratch = mkdtempSync(join(tmpdir(), 'bench-prof-'));
  try {
    await run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${scratch}`, '--cpu-prof-interval=1000', appBundle], {
      cwd: root,
      env: synthEnv(join(scratch, 'out'), environmentsDir),
      timeoutMs: 240_000,
    });
    const file = readdirSync(scratch).find((f) => f.endsWith('.cpuprofile'));
    if (!file) throw new Error('node --cpu-prof wrote no profile');
    return summarize(JSON.parse(readFileSync(join(scratch, file), 'utf8')) as CpuProfile, root);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

export function summarize(profile: CpuProfile, root: string): ProfileSummary {
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, { owner: string; us: number }>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (!us) continue;
    total += us;
    const owner = ownerOf(node.callFrame.url, node.callFrame.functionName, root);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url, root)}:${node.callFrame.lineNumber + 1}`;
    const f = byFunction.get(name) ?? { owner, us: 0 };
    f.us += us;
    byFunction.set(name, f);
  }
  return {
    totalMs: total / 1000,
    byOwner: [...byOwner]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([owner, us]) => ({ owner, ms: us / 1000, share: us / total })),
    topFunctions: [...byFunction]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, 12)
      .map(([name, f]) => ({ name, owner: f.owner, ms: f.us / 1000 })),
  };
}

const APP_BUNDLE = 'app bundle: src/ and bundled packages';

/** Older results named the bench's cache folder as if it were a package. */
export const ownerLabel = (owner: string): string => (owner === '.cache' ? APP_BUNDLE : owner);

/** The npm package a frame belongs to, "app" for the bundle, or V8's own categories. */
function ownerOf(url: string, fn: string, root: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  if (url.includes(`${root}/build/`) || url.includes('/.cache/email-server-bench/')) return APP_BUNDLE;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return 'node (built-in modules)';
  return shortUrl(url, root);
}

function shortUrl(url: string, root: string): string {
  return url.replace(/^file:\/\//, '').replace(`${root}/`, '').replace(/.*node_modules\//, '');
}
