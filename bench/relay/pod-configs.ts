import type { EnvironmentConfig } from '../../src/config/schema';
import type { PostfixFiles } from '../../test/integration/harness';
import { HOST_STOCK_DIR, relayCacheToSink, stockDirLabel, stockFiles } from './configs';

/**
 * The relay configurations run inside the pod's limits. Each is started by the integration
 * harness from the rendered entrypoint.sh (so the log mirror, the rotation loop and `postfix check`
 * are in the pod's CPU too), with only the harness' paths, listener, relayhost and test CA changed.
 */

export interface PodConfig {
  id: string;
  label: string;
  description: string;
  overrides: string[];
  /** The environment to render (prod, or prod with one tuning value changed). */
  env: EnvironmentConfig;
  mainCf: Record<string, string>;
  editFiles?: (files: PostfixFiles, port: number) => PostfixFiles;
  variant?: Record<string, number>;
  /** The parameters the report names, as this configuration runs them. */
  processLimit: number;
  relayConcurrency: number;
  /** Only the sweep: it runs at the sweep's session counts (or at `sweepAt`), not in the main schedule. */
  sweepOnly?: boolean;
  sweepAt?: number[];
  /** Open-loop shares of prod's capacity it also runs at, next to prod. */
  openAt?: number[];
  extraMainCf?: Record<string, string>;
}

/** Every client connects from its own loopback address: mynetworks must cover all of 127/8. */
const NETWORKS = { mynetworks: '127.0.0.0/8' };

/**
 * What juanluisbaptiste/postfix's run.sh (v1.8.2, the pinned release line) writes with `postconf -e`
 * on top of the image's stock files for SMTP_SERVER=smtp-relay.gmail.com, SERVER_HOSTNAME=
 * mail.bionicaisolutions.com and no SMTP_USERNAME. `smtp_use_tls = yes` is opportunistic TLS
 * (security level "may": unverified, and plain text if the relay offers no STARTTLS); no
 * smtp_tls_connection_reuse, so every delivery opens a new connection and a new TLS handshake.
 */
export const RUN_SH_SETTINGS: Record<string, string> = {
  myhostname: 'mail.bionicaisolutions.com',
  mydomain: 'bionicaisolutions.com',
  mydestination: 'localhost',
  myorigin: '$mydomain',
  smtp_use_tls: 'yes',
  always_add_missing_headers: 'no',
  smtp_host_lookup: 'native,dns',
  inet_protocols: 'all',
  mynetworks: '10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16',
};

export function podConfigs(
  prod: EnvironmentConfig,
  sweep: { processLimits: number[]; relayConcurrency?: number[]; noCache?: { sessions: number[]; openShares: number[] } },
  tryMainCf?: Record<string, string>,
  stockDir = HOST_STOCK_DIR,
): PodConfig[] {
  const t = prod.tuning;
  const withTuning = (tuning: Partial<EnvironmentConfig['tuning']>): EnvironmentConfig => ({ ...prod, tuning: { ...prod.tuning, ...tuning } });
  const configs: PodConfig[] = [
    {
      id: 'prod',
      label: 'prod',
      description: `environments/prod.yaml rendered by src/postfix as shipped (\`tuning.processLimit\` ${t.processLimit}, \`tuning.relayConcurrency\` ${t.relayConcurrency}, verified TLS with connection reuse through tlsproxy, rate limits, sender allowlist, drain table).`,
      overrides: ['mynetworks = 127.0.0.0/8', 'smtp_connection_cache_destinations = 127.0.0.1 (the sink, as relayhost)'],
      env: prod,
      mainCf: { ...NETWORKS },
      editFiles: relayCacheToSink,
      processLimit: t.processLimit,
      relayConcurrency: t.relayConcurrency,
    },
    {
      id: 'stock-image',
      label: 'stock image (run.sh)',
      description:
        `What the stock juanluisbaptiste/postfix image runs: Postfix' defaults (Debian's stock main.cf and master.cf of the Postfix that ran, from ${stockDirLabel(stockDir)}, stand in for Alpine's) plus what its run.sh writes ` +
        `(${Object.entries(RUN_SH_SETTINGS).map(([k, v]) => `\`${k} = ${v}\``).join(', ')}): opportunistic, unverified TLS and a new connection and TLS handshake for every message; default_process_limit 100.`,
      overrides: ['mynetworks = 127.0.0.0/8 (run.sh: the RFC 1918 ranges)', 'maillog_file = a file mirrored to stdout by the entrypoint (run.sh: /dev/stdout)', 'chroot n in master.cf', 'smtpd_peername_lookup = no'],
      env: prod,
      mainCf: { ...NETWORKS },
      editFiles: stockFiles(RUN_SH_SETTINGS, stockDir),
      processLimit: 100,
      relayConcurrency: 20,
    },
    {
      id: 'ceiling',
      label: 'submission-only ceiling',
      description: 'The prod configuration with every message discarded once queued (`default_transport = relay_transport = discard`): what the pod accepts when relaying costs nothing.',
      overrides: ['mynetworks = 127.0.0.0/8', 'default_transport = relay_transport = discard'],
      env: prod,
      mainCf: { ...NETWORKS, default_transport: 'discard:bench ceiling', relay_transport: 'discard:bench ceiling' },
      editFiles: relayCacheToSink,
      processLimit: t.processLimit,
      relayConcurrency: t.relayConcurrency,
    },
  ];
  if (tryMainCf && Object.keys(tryMainCf).length) {
    const set = Object.entries(tryMainCf).map(([k, v]) => `${k} = ${v}`);
    configs.push({
      id: 'try',
      label: 'prod + --pod-try',
      description: `prod with ${set.map((v) => `\`${v}\``).join(', ')} (an experiment from the command line).`,
      overrides: ['mynetworks = 127.0.0.0/8', ...set],
      env: prod,
      mainCf: { ...NETWORKS, ...tryMainCf },
      editFiles: relayCacheToSink,
      processLimit: Number(tryMainCf.default_process_limit ?? t.processLimit),
      relayConcurrency: Number(tryMainCf.default_destination_concurrency_limit ?? t.relayConcurrency),
      extraMainCf: tryMainCf,
    });
  }
  if (sweep.noCache) {
    configs.push({
      id: 'prod-nocache',
      label: 'prod without the relay connection cache',
      description:
        'prod with `smtp_connection_cache_destinations` commented out (Postfix then caches a relay connection only while mail for it is queued): what light traffic costs without it.',
      overrides: ['mynetworks = 127.0.0.0/8', 'smtp_connection_cache_destinations = (default, empty)'],
      env: prod,
      mainCf: { ...NETWORKS, smtp_connection_cache_destinations: '' },
      variant: { connectionCache: 0 },
      processLimit: t.processLimit,
      relayConcurrency: t.relayConcurrency,
      sweepOnly: true,
      sweepAt: sweep.noCache.sessions,
      openAt: sweep.noCache.openShares,
    });
  }
  // The sweep: one instance per process limit, the shipped one too (its own instance, so every
  // instance of the sweep ran the same rounds and wrote the same amount of log), measured all at once.
  for (const p of sweep.processLimits) {
    const rc = Math.min(t.relayConcurrency, p);
    const shipped = p === t.processLimit;
    configs.push({
      id: `prod-pl${p}`,
      label: `prod, processLimit ${p}${shipped ? ' (shipped)' : ''}`,
      description: `prod with \`tuning.processLimit: ${p}\`${rc !== t.relayConcurrency ? ` (relayConcurrency ${rc})` : ''}${shipped ? ' (as shipped; its own instance for the sweep)' : ''}.`,
      overrides: ['mynetworks = 127.0.0.0/8', `default_process_limit = ${p}`],
      env: withTuning({ processLimit: p, relayConcurrency: rc }),
      mainCf: { ...NETWORKS },
      editFiles: relayCacheToSink,
      variant: { processLimit: p, relayConcurrency: rc },
      processLimit: p,
      relayConcurrency: rc,
      sweepOnly: true,
    });
  }
  for (const rc of (sweep.relayConcurrency ?? []).filter((v) => v !== t.relayConcurrency && v <= t.processLimit)) {
    configs.push({
      id: `prod-pl${t.processLimit}-rc${rc}`,
      label: `prod, relayConcurrency ${rc}`,
      description: `prod with \`tuning.relayConcurrency: ${rc}\` (fewer smtp processes: each holds about 2 MiB).`,
      overrides: ['mynetworks = 127.0.0.0/8', `default_destination_concurrency_limit = ${rc}`],
      env: withTuning({ relayConcurrency: rc }),
      mainCf: { ...NETWORKS },
      editFiles: relayCacheToSink,
      variant: { processLimit: t.processLimit, relayConcurrency: rc },
      processLimit: t.processLimit,
      relayConcurrency: rc,
      sweepOnly: true,
    });
  }
  return configs;
}
