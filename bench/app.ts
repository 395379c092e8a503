import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { run } from './lib/proc';

/**
 * The bench's own bundles of src/main.ts, kept in node_modules/.cache/email-server-bench/ so that
 * other people rebuilding or cleaning build/ mid-run cannot change what is measured:
 * - `app.js`: what the project's synth runs (its `build` script, or the options of scripts/synth.cjs);
 * - `app-proposed.js`: with the changes this bench proposes, to measure what they buy.
 */

/** Where the bench keeps its bundles and results: a tool cache nobody else cleans mid-run. */
export function benchDir(root: string): string {
  return join(root, 'node_modules', '.cache', 'email-server-bench');
}

export interface Proposal {
  id: string;
  what: string;
  /** Whether it could be applied to this source (false: already in the source, or the code moved). */
  applied: boolean;
}

export interface AppBundles {
  current: string;
  /** Undefined when every proposal is in the source already (nothing left to measure). */
  proposed: string | undefined;
  proposals: Proposal[];
  /** Packages the current bundle loads at run time (its `require("...")` of node_modules). */
  externals: string[];
}

/** Packages that stay outside the proposed bundle: the floor's own (cdk8s-plus-28 and its peers) and re2-wasm, which loads a .wasm file next to itself. */
const KEEP_EXTERNAL = ['cdk8s', 'cdk8s-plus-28', 'constructs', 're2-wasm'];

export async function bundleApp(root: string): Promise<AppBundles> {
  const dir = benchDir(root);
  mkdirSync(dir, { recursive: true });
  const current = join(dir, 'app.js');
  // The current bundle is what the project's own synth runs, only written to a file: the
  // package.json `build` script when there is one, else the options of scripts/synth.cjs
  // (which bundles in memory with the dependencies external).
  const buildScript = buildCommand(root, current);
  if (buildScript) {
    await run('sh', ['-c', buildScript], { cwd: root, env: { ...process.env, PATH: `${join(root, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` } });
  } else {
    const external = synthExternals(root);
    await build({
      entryPoints: [join(root, 'src', 'main.ts')],
      bundle: true,
      platform: 'node',
      target: 'node20',
      logLevel: 'warning',
      outfile: current,
      ...(external ? { external } : { packages: 'external' as const }),
    });
  }
  const dependenciesExternal = buildScript ? buildScript.includes('--packages=external') : !synthExternals(root);
  const proposed = join(dir, 'app-proposed.js');
  await build({
    entryPoints: [join(root, 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    external: KEEP_EXTERNAL,
    outfile: proposed,
  });

  const proposals: Proposal[] = [
    {
      id: 'bundle-deps',
      what: `bundle the pure-JS dependencies into the app bundle (esbuild \`external: [${KEEP_EXTERNAL.map((e) => `'${e}'`).join(', ')}]\` instead of \`packages: 'external'\`): one file to compile instead of hundreds of modules to resolve and load`,
      applied: dependenciesExternal,
    },
  ];
  // src/synth.ts serializes each chart with chart.toJson(), which in cdk8s re-runs
  // resolveDependencies() and every validation of the whole app for each chart (App._synthChart).
  // validateApp() has already run them once, so the objects can be serialized directly.
  const code = readFileSync(proposed, 'utf8');
  const anchor = /objects: chart\.toJson\(\)/;
  const helper = /function (chartObjects\d*)\(chart\)/.exec(code)?.[1];
  const canPatch = anchor.test(code) && helper !== undefined;
  if (canPatch) writeFileSync(proposed, code.replace(anchor, `objects: ${helper}(chart)`));
  proposals.push({
    id: 'serialize-once',
    what: 'in src/synth.ts, serialize each chart with `chartObjects(chart)` (src/policy) instead of `chart.toJson()`, which re-validates the whole app once per chart: O(environments²)',
    applied: canPatch,
  });
  const externals = [...new Set([...readFileSync(current, 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)].map((m) => m[1]!))].filter((m) => !m.startsWith('node:') && !builtinModules.includes(m)).sort();
  return { current, proposed: proposals.some((p) => p.applied) ? proposed : undefined, proposals, externals };
}

/** Files and bytes a synth wrote, to prove a timed run did its work. */
export function outputSize(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  if (!existsSync(dir)) return { files, bytes };
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const full = join(d, name);
      const st = statSync(full);
      if (st.isDirectory()) walk(full);
      else {
        files++;
        bytes += st.size;
      }
    }
  };
  walk(dir);
  return { files, bytes };
}

/** Environment variables that send a synth's output (and, optionally, its input) to the bench's folders. */
export function synthEnv(outdir: string, environmentsDir?: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CDK8S_OUTDIR: outdir,
    CDK8S_CHECK_UPGRADE: 'false',
    ...(environmentsDir ? { EMAIL_SERVER_ENVIRONMENTS_DIR: environmentsDir } : {}),
  };
}

/**
 * The package.json `build` script (an esbuild command line) with its --outfile pointed elsewhere,
 * so the bench measures the project's own bundling flags; undefined when there is no such script.
 */
export function buildCommand(root: string, outfile: string): string | undefined {
  const script = packageScripts(root).build ?? '';
  if (!/^esbuild\s/.test(script) || !/--outfile=\S+/.test(script)) return undefined;
  return script.replace(/--outfile=\S+/, `--outfile=${outfile}`);
}

export function packageScripts(root: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
  return pkg.scripts ?? {};
}

/** The `external: [...]` list of scripts/synth.cjs, or undefined when it keeps every package external. */
function synthExternals(root: string): string[] | undefined {
  const list = /\bexternal:\s*\[([^\]]*)\]/.exec(synthSource(root))?.[1];
  return list === undefined ? undefined : [...list.matchAll(/'([^']+)'|"([^"]+)"/g)].map((m) => (m[1] ?? m[2])!);
}

function synthSource(root: string): string {
  try {
    return readFileSync(join(root, 'scripts', 'synth.cjs'), 'utf8');
  } catch {
    return '';
  }
}
