import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { environmentSchema } from '../../src/config/schema';
import { ALERTS } from '../../src/monitoring/rules';
import { METRICS } from '../../src/monitoring/metrics';
import { SLO_SERIES } from '../../src/monitoring/slo';
import { POSTFIX_CAPABILITIES } from '../../src/postfix/capabilities';
import { DRAIN_REFUSE_REPLY } from '../../src/postfix/drain';
import { PATHS, SMTP_PORT } from '../../src/postfix/layout';
import { environmentJsonSchema } from '../../scripts/gen-docs';
import { codeSpans, fences, OWN_DOCS, read, ROOT } from './markdown';
import { synthesizedObjects } from './synthesized';
import { join } from 'node:path';

type Json = Record<string, unknown>;

const docs = OWN_DOCS.map((path) => ({ path, text: read(path) }));
/** Everything written as code: spans and fenced blocks. */
const codeOf = (text: string) => [...codeSpans(text), ...fences(text).map((f) => f.code)].join('\n');

describe('the docs name only features that exist', () => {
  it('every `npm run <script>` is a script of package.json', () => {
    const scripts = Object.keys((JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts);
    const named = docs.flatMap(({ path, text }) => [...text.matchAll(/npm run (?:--silent )?([\w:-]+)/g)].map((m) => `${m[1]} (${path})`));
    expect(named.filter((n) => !scripts.includes(n.split(' ')[0]!))).toEqual([]);
  });

  it('every configuration field path is a field of the schema', () => {
    const schema = environmentJsonSchema();
    const top = Object.keys(schema.properties as Json);
    const exists = (path: string): boolean => {
      let node: Json | undefined = schema;
      for (const key of path.split('.')) {
        if (key === '*') return Boolean(node?.properties);
        node = (node?.properties as Record<string, Json> | undefined)?.[key];
        if (!node) return false;
      }
      return true;
    };
    const unknown = docs.flatMap(({ path, text }) =>
      codeSpans(text)
        .map((span) => /^([a-z][A-Za-z]*(?:\.(?:[a-z][A-Za-z]*|\*))+)(?::.*)?$/.exec(span)?.[1])
        // Domain names and Jakarta Mail's `mail.smtp.*` properties look like field paths; they are not.
        .filter((p): p is string => p !== undefined && !/\.(com|org|net|io|example)$/.test(p) && !p.startsWith('mail.smtp.'))
        .filter((p) => top.includes(p.split('.')[0]!) && !exists(p))
        .map((p) => `${p} (${path})`),
    );
    expect(unknown).toEqual([]);
  });

  it('every alert name is an alert of src/monitoring/rules.ts', () => {
    const names = new Set(ALERTS.map((a) => a.name));
    const unknown = docs.flatMap(({ path, text }) => [...text.matchAll(/\bPostfixRelay[A-Za-z]+/g)].map((m) => m[0]).filter((n) => !names.has(n)).map((n) => `${n} (${path})`));
    expect(unknown).toEqual([]);
  });

  it('every metric name is one the rules and dashboard use', () => {
    // Recorded SLO series (postfix_relay_slo:...) match up to their first colon.
    const known = [...Object.values(METRICS).map((m) => m.name), SLO_SERIES.good.split(':')[0]!];
    const unknown = docs.flatMap(({ path, text }) =>
      [...text.matchAll(/\b(postfix|kube|container)_[a-z_]+\b/g)]
        .map((m) => m[0])
        .filter((n) => n !== 'postfix_exporter' && !known.some((k) => n === k || n.startsWith(`${k}_`)))
        .map((n) => `${n} (${path})`),
    );
    expect(unknown).toEqual([]);
  });

  it('every option of the deploy script that is mentioned exists', () => {
    const script = read('scripts/deploy-email-server.sh');
    const options = docs.flatMap(({ path, text }) =>
      text
        .split('\n')
        .filter((line) => line.includes('deploy-email-server.sh'))
        .flatMap((line) => [...line.matchAll(/(?:^|\s)(--?[a-z][a-z-]*)/g)].map((m) => `${m[1]} (${path})`)),
    );
    expect(options.length).toBeGreaterThan(3);
    expect(options.filter((o) => !script.includes(`${o.split(' ')[0]}`))).toEqual([]);
  });

  it('object names in code are objects (or containers) that synth creates', () => {
    const objects = synthesizedObjects();
    const names = new Set<string>();
    for (const o of objects) {
      names.add((o.metadata as Json).name as string);
      const spec = o.spec as Json | undefined;
      const containers = ((spec?.template as Json | undefined)?.spec as Json | undefined)?.containers as Json[] | undefined;
      for (const c of containers ?? []) names.add(c.name as string);
    }
    const unknown = docs.flatMap(({ path, text }) =>
      codeSpans(text)
        .map((s) => /^(?:[A-Za-z]+\/)?(postfix-[a-z-]+)$/.exec(s)?.[1])
        .filter((n): n is string => n !== undefined && !names.has(n))
        .map((n) => `${n} (${path})`),
    );
    expect(unknown).toEqual([]);
  });

  it('the README diagram shows the mail path and the metrics path', () => {
    const diagram = fences(read('README-EMAIL-SERVER.md')).find((f) => f.lang === 'mermaid')?.code ?? '';
    for (const part of ['app pod', 'Service postfix-relay', 'port 25', 'smtp-relay.gmail.com:587', 'exporter :8080', 'postfix-relay-metrics', 'ServiceMonitor', 'Prometheus']) {
      expect(diagram).toContain(part);
    }
  });

  it('the capability set the README names is the one the container gets', () => {
    const row = read('README-EMAIL-SERVER.md')
      .split('\n')
      .find((line) => line.includes('drops **all** capabilities'));
    expect(row).toBeDefined();
    const named = codeSpans(row!).filter((s) => /^[A-Z][A-Z_]+$/.test(s) && s !== 'SYS_CHROOT');
    expect(new Set(named)).toEqual(new Set(POSTFIX_CAPABILITIES.map((c) => c.name)));
  });

  it('names, ports, labels and paths the docs rely on are the real ones', () => {
    const prod = loadEnvironmentFile(join(ROOT, 'environments/prod.yaml'));
    const all = docs.map((d) => d.text).join('\n');
    const code = docs.map((d) => codeOf(d.text)).join('\n');
    expect(prod.namespace).toBe('email-server-prod');
    expect(all).toContain(`${prod.network.accessLabel.key}=${prod.network.accessLabel.value}`);
    expect(prod.mail.hostname).toBe('mail.bionicaisolutions.com');
    expect(prod.metrics.port).toBe(8080);
    expect(SMTP_PORT).toBe(25);
    expect(prod.image.tag).toBe('1.8.2');
    expect(prod.relay.host).toBe('smtp-relay.gmail.com');
    expect(prod.mail.allowedSenderDomains).toEqual(['bionicaisolutions.com', 'gmail.com']);
    expect(prod.mail.rateLimits).toMatchObject({ messagesPerMinute: 600, recipientsPerMinute: 6000, connectionsPerMinute: 0 });
    expect(prod.mail.messageSizeLimitBytes).toBe(25_000_000);
    expect(prod.queue.persistence.enabled).toBe(true);
    // What a client sees from a draining pod (TROUBLESHOOTING, API).
    expect(all).toContain(DRAIN_REFUSE_REPLY);
    // Every `postqueue`/`postcat` command in the docs uses the ConfigMap directory Postfix runs on.
    for (const m of code.matchAll(/post(?:queue|cat|conf|super) -c (\S+)/g)) expect(m[1]).toBe(PATHS.configDir);
    const defaults = environmentSchema.parse({ namespace: 'x', mail: { hostname: 'a.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] } });
    expect(defaults.alerts.oldestMessageAgeSeconds).toBe(1800);
    expect(defaults.alerts.memoryLimitRatio).toBe(0.9);
    expect(defaults.alerts.cpuThrottleRatio).toBe(0.25);
    expect(defaults.queue.maximalQueueLifetime).toBe('5d');
    expect(defaults.probes.initialDelaySeconds).toBe(30);
    expect(defaults.network.monitoringNamespace).toBe('monitoring');
  });
});
