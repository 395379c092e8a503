import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net';
import { waitFor } from './wait';

/**
 * Debian's prometheus-blackbox-exporter (0.23) on 127.0.0.1, running a given configuration: what
 * the user's exporter does when Prometheus scrapes the Probe's /probe URL.
 */

export const BLACKBOX_BINARY = 'prometheus-blackbox-exporter';

/** One /probe request: the exporter's metrics and debug log, and how long the request took. */
export interface ProbeResult {
  readonly success: boolean;
  /** probe_duration_seconds as the exporter reports it. */
  readonly durationSeconds: number;
  /** Wall-clock time of the HTTP request, in ms. */
  readonly elapsedMs: number;
  /** The exporter's debug output (each step of the conversation). */
  readonly debug: string;
  /** Metric names in the response. */
  readonly metricNames: readonly string[];
}

export interface Blackbox {
  readonly port: number;
  /** Runs `module` against `target` as Prometheus would, with this scrape timeout (seconds). */
  probe(module: string, target: string, scrapeTimeoutSeconds: number): Promise<ProbeResult>;
  stop(): Promise<void>;
}

/** `--config.check` on a configuration: [exit status, output]. */
export function checkBlackboxConfig(configYaml: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'blackbox-check-'));
  try {
    const file = join(dir, 'blackbox.yml');
    writeFileSync(file, configYaml);
    const r = spawnSync(BLACKBOX_BINARY, [`--config.file=${file}`, '--config.check'], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function value(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

export async function startBlackbox(configYaml: string): Promise<Blackbox> {
  const dir = mkdtempSync(join(tmpdir(), 'blackbox-'));
  const config = join(dir, 'blackbox.yml');
  writeFileSync(config, configYaml);
  const port = await freePort();
  const child: ChildProcess = spawn(BLACKBOX_BINARY, [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=debug'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (log += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `the blackbox exporter on 127.0.0.1:${port}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`the blackbox exporter exited (${child.exitCode}): ${log}`);
        try {
          return (await fetch(`${base}/-/healthy`)).ok;
        } catch {
          return false;
        }
      },
      { timeoutMs: 15_000 },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    port,
    async probe(module, target, scrapeTimeoutSeconds) {
      const started = Date.now();
      const url = `${base}/probe?module=${encodeURIComponent(module)}&target=${encodeURIComponent(target)}&debug=true`;
      // Prometheus tells the exporter its scrape timeout; the exporter keeps 0.5 s of it in reserve.
      const response = await fetch(url, { headers: { 'X-Prometheus-Scrape-Timeout-Seconds': String(scrapeTimeoutSeconds) } });
      const text = await response.text();
      const elapsedMs = Date.now() - started;
      if (!response.ok) throw new Error(`/probe answered ${response.status}: ${text}`);
      const metrics = text.slice(text.indexOf('Metrics that would have been returned:'));
      return {
        success: value(metrics, 'probe_success') === 1,
        durationSeconds: value(metrics, 'probe_duration_seconds') ?? NaN,
        elapsedMs,
        debug: text,
        metricNames: [...new Set([...metrics.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/gm)].map((m) => m[1] as string))],
      };
    },
    stop,
  };
}
