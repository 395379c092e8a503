import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { overrideMainCf } from '../../src/postfix';
import type { PostfixFiles } from '../../test/integration/harness';

/**
 * The configurations compared on the same load. All start through the integration harness
 * (isolated instance, rendered entrypoint.sh, paths under a temp dir, smtpd on loopback, relayhost
 * on the sink, the test CA); the stock ones then swap in Debian's own main.cf and master.cf.
 */

export interface RelayConfig {
  id: string;
  label: string;
  description: string;
  /** main.cf overrides on top of the harness' own. */
  mainCf: Record<string, string>;
  /** Replaces the rendered files (the stock configurations). */
  editFiles?: (files: PostfixFiles, port: number) => PostfixFiles;
  /** Shown in the report: what the bench changed besides the harness' paths, ports and relayhost. */
  overrides: string[];
}

/** Every simulated client gets its own loopback address, so mynetworks covers all of 127/8. */
const BENCH_NETWORKS = { mynetworks: '127.0.0.0/8' };

/** Tighter limits than prod's, to show what memory and throughput they trade. */
export const PROPOSED_LIMITS = { default_process_limit: '20', default_destination_concurrency_limit: '10' };

/** Debian's stock files of the host's Postfix; the bench passes the Postfix 3.10 root's own (bench/relay/generation.ts). */
export const HOST_STOCK_DIR = '/usr/share/postfix';

/** How the doc names a stock folder: the host's path, or the Postfix 3.10 root's. */
export const stockDirLabel = (stockDir: string): string => (stockDir === HOST_STOCK_DIR ? HOST_STOCK_DIR : `the Postfix 3.10 root's ${HOST_STOCK_DIR}`);

export function relayConfigs(relayName: string, stockDir = HOST_STOCK_DIR): RelayConfig[] {
  const dir = stockDirLabel(stockDir);
  return [
    {
      id: 'prod',
      label: 'prod',
      description: 'environments/prod.yaml rendered by src/postfix (TLS `secure` to the relay, `smtp_tls_connection_reuse = yes` through tlsproxy, rate limits, sender allowlist).',
      mainCf: { ...BENCH_NETWORKS },
      editFiles: relayCacheToSink,
      overrides: ['mynetworks = 127.0.0.0/8', 'smtp_connection_cache_destinations = 127.0.0.1 (the sink, as relayhost)'],
    },
    {
      id: 'stock',
      label: 'stock',
      description:
        `Debian's stock main.cf (main.cf.debian in ${dir}, everything else Postfix' built-in defaults) and stock master.cf (master.cf.dist), ` +
        'with only relayhost, ports, paths and mynetworks changed: it relays to the sink in clear text, one connection per message unless a backlog builds (connection caching on demand).',
      mainCf: { ...BENCH_NETWORKS },
      editFiles: stockFiles({}, stockDir),
      overrides: ['mynetworks = 127.0.0.0/8', 'chroot n in master.cf (a test instance has no chroot jail)'],
    },
    {
      id: 'stock-tls',
      label: 'stock + verified TLS',
      description:
        'The stock files plus the least a user must add to relay to smtp-relay.gmail.com with a verified certificate: ' +
        '`smtp_tls_security_level = secure`, `smtp_tls_CAfile`, `smtp_tls_secure_cert_match`. No TLS connection reuse, no session cache.',
      mainCf: { ...BENCH_NETWORKS },
      editFiles: stockFiles({ smtp_tls_security_level: 'secure', smtp_tls_secure_cert_match: relayName, smtp_tls_servername: relayName }, stockDir),
      overrides: ['mynetworks = 127.0.0.0/8', 'chroot n in master.cf', 'smtp_tls_security_level = secure', `smtp_tls_secure_cert_match = ${relayName}`],
    },
    {
      // Not run by default any more (the pod-limits section sweeps the process limits at the pod's
      // real limits); kept for --relay-configs=prod-tuned.
      id: 'prod-tuned',
      label: 'prod, tighter limits',
      description:
        'The prod configuration with tighter process limits than it renders: `default_process_limit = 20` (at most 20 smtpd, smtp, trivial-rewrite... processes each; ' +
        'further clients wait in the listen queue) and `default_destination_concurrency_limit = 10` (10 reused TLS connections to the relay): what memory and throughput they trade.',
      mainCf: { ...BENCH_NETWORKS, ...PROPOSED_LIMITS },
      editFiles: relayCacheToSink,
      overrides: ['mynetworks = 127.0.0.0/8', ...Object.entries(PROPOSED_LIMITS).map(([k, v]) => `${k} = ${v}`)],
    },
    {
      id: 'ceiling',
      label: 'submission-only ceiling',
      description:
        'The prod configuration with every message discarded after it is queued (`default_transport = discard`): what Postfix accepts when relaying costs nothing. ' +
        'Its *accepted/s* is the ceiling.',
      mainCf: { ...BENCH_NETWORKS, default_transport: 'discard:bench ceiling', relay_transport: 'discard:bench ceiling' },
      overrides: ['mynetworks = 127.0.0.0/8', 'default_transport = relay_transport = discard'],
    },
  ];
}

/**
 * Debian's stock files with the harness' overrides (paths, loopback listener, mynetworks, relayhost,
 * CA file, no reverse lookups) carried over from the rendered main.cf, and `extra` on top.
 */
export function stockFiles(extra: Record<string, string>, stockDir = HOST_STOCK_DIR): (files: PostfixFiles, port: number) => PostfixFiles {
  return (files, port) => {
    const harness = harnessOverrides(files['main.cf']);
    // extra first: the harness' paths, listener, relayhost and mynetworks win over what run.sh would write.
    const mainCf = overrideMainCf(readFileSync(join(stockDir, 'main.cf.debian'), 'utf8'), { ...extra, ...harness }, 'bench overrides (harness paths, ports, relayhost, mynetworks)');
    const masterCf = readFileSync(join(stockDir, 'master.cf.dist'), 'utf8')
      .split('\n')
      .map((line) => {
        if (/^#|^\s/.test(line) || !line.trim()) return line;
        const cols = line.split(/\s+/);
        if (cols.length < 8) return line;
        if (cols[0] === 'smtp' && cols[1] === 'inet') cols[0] = `127.0.0.1:${port}`;
        cols[4] = 'n';
        return cols.join('  ');
      })
      .join('\n');
    return { ...files, 'main.cf': mainCf, 'master.cf': masterCf };
  };
}

/**
 * The rendered `smtp_connection_cache_destinations` names the relay host (smtp-relay.gmail.com);
 * the harness points relayhost at the loopback sink, so the bench points the cache at it too, as
 * it does relayhost. A configuration that does not set it is left alone.
 */
export function relayCacheToSink(files: PostfixFiles): PostfixFiles {
  const main = files['main.cf'];
  if (!/^smtp_connection_cache_destinations\s*=\s*\S/m.test(main)) return files;
  return { ...files, 'main.cf': overrideMainCf(main, { smtp_connection_cache_destinations: '127.0.0.1' }, 'bench: the connection cache follows relayhost to the sink') };
}

/** The `name = value` lines the harness appended after its marker comment. */
function harnessOverrides(mainCf: string): Record<string, string> {
  const marker = mainCf.indexOf('# integration-test overrides');
  if (marker < 0) throw new Error('the harness main.cf has no "# integration-test overrides" block: has its format changed?');
  const out: Record<string, string> = {};
  for (const line of mainCf.slice(marker).split('\n').slice(1)) {
    const m = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}
