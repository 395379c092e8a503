import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadEnvironmentFile } from '../../src/config/load';
import type { EnvironmentConfig } from '../../src/config/schema';
import { probeModuleName, probeTarget, renderBlackboxConfig, renderBlackboxModule, type QueryStep } from '../../src/monitoring/blackbox';
import { fences } from '../docs/markdown';

const prod = loadEnvironmentFile('environments/prod.yaml');
const probeOn = (env: EnvironmentConfig, probe: Partial<EnvironmentConfig['probe']> = {}): EnvironmentConfig => ({
  ...env,
  probe: { ...env.probe, enabled: true, ...probe },
});
const steps = (env: EnvironmentConfig): readonly QueryStep[] => renderBlackboxModule(env).tcp.query_response;
const sent = (env: EnvironmentConfig) => steps(env).flatMap((s) => ('send' in s ? [s.send] : []));

describe('the blackbox module', () => {
  it('holds an SMTP conversation up to RCPT, resets and quits, expecting each reply code', () => {
    expect(steps(probeOn(prod))).toEqual([
      { expect: '^220 ' },
      { send: 'EHLO blackbox-probe.bionicaisolutions.com\r' },
      { expect: '^250 ' },
      { send: 'MAIL FROM:<blackbox-probe@bionicaisolutions.com>\r' },
      { expect: '^250 ' },
      { send: 'RCPT TO:<blackbox-probe@bionicaisolutions.com>\r' },
      { expect: '^250 ' },
      { send: 'RSET\r' },
      { expect: '^250 ' },
      { send: 'QUIT\r' },
      { expect: '^221 ' },
    ]);
  });

  it('ends every line it sends in CR (the exporter adds LF) and never sends DATA', () => {
    for (const line of sent(probeOn(prod))) {
      expect(line.endsWith('\r')).toBe(true);
      expect(line.slice(0, -1)).not.toMatch(/[\r\n]/);
    }
    expect(sent(probeOn(prod)).some((l) => /^DATA/i.test(l))).toBe(false);
  });

  it('is a tcp prober with the timeout of probe.timeout', () => {
    expect(renderBlackboxModule(probeOn(prod))).toMatchObject({ prober: 'tcp', timeout: '10s' });
    expect(renderBlackboxModule(probeOn(prod, { timeout: '4s' })).timeout).toBe('4s');
  });

  it('sends as the first allowed sender domain and greets as the mail domain', () => {
    const env: EnvironmentConfig = { ...probeOn(prod), mail: { ...prod.mail, domain: 'example.org', allowedSenderDomains: ['apps.example.org', 'example.org'] } };
    expect(sent(env)).toContain('EHLO blackbox-probe.example.org\r');
    expect(sent(env)).toContain('MAIL FROM:<blackbox-probe@apps.example.org>\r');
    expect(sent(env)).toContain('RCPT TO:<blackbox-probe@apps.example.org>\r');
  });

  it('is named postfix-relay-<environment> unless probe.module says otherwise', () => {
    expect(probeModuleName(prod)).toBe('postfix-relay-prod');
    expect(probeModuleName(probeOn(prod, { module: 'smtp_relay' }))).toBe('smtp_relay');
    expect(Object.keys(parse(renderBlackboxConfig(probeOn(prod, { module: 'smtp_relay' }))).modules)).toEqual(['smtp_relay']);
  });

  it('targets the relay Service by the name applications use', () => {
    expect(probeTarget(prod)).toBe('postfix-relay.email-server-prod.svc.cluster.local:25');
    expect(probeTarget(probeOn(prod, { clusterDomain: 'corp.internal' }))).toBe('postfix-relay.email-server-prod.svc.corp.internal:25');
  });

  it('writes a blackbox.yml snippet whose CRs survive YAML (double-quoted escapes)', () => {
    const text = renderBlackboxConfig(probeOn(prod));
    expect(text).toContain('- send: "QUIT\\r"');
    expect(parse(text)).toEqual({ modules: { 'postfix-relay-prod': renderBlackboxModule(probeOn(prod)) } });
  });

  it('is the snippet docs/SLO.md shows for prod', () => {
    const doc = readFileSync('docs/SLO.md', 'utf8');
    const marker = '<!-- blackbox module: prod with probe.enabled -->\n';
    expect(doc).toContain(marker);
    const block = fences(doc.slice(doc.indexOf(marker) + marker.length))[0];
    expect(block?.lang).toBe('yaml');
    expect(block?.code).toBe(renderBlackboxConfig(probeOn(prod)));
  });
});
