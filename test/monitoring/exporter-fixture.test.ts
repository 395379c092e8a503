/**
 * The Hsn723 fixture (test/fixtures/hsn723-metrics.txt, written from the exporter's sources)
 * stands in for a scrape of the sidecar image, which cannot run here. These tests check that it
 * holds every exporter name the rules and the dashboard read, in the label shapes the rules
 * match. test/integration/promtool-rules.test.ts lints it with promtool and evaluates the rules on it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { METRICS, TARGETS, type MetricInfo } from '../../src/monitoring';
import { leMatcher } from '../../src/monitoring/promql';
import { names, parseExposition } from './support/exposition';
import { metricFor, usedSeriesNames } from './support/queries';

const FIXTURE = 'test/fixtures/hsn723-metrics.txt';
const text = readFileSync(FIXTURE, 'utf8');
const samples = parseExposition(text);
const prod = loadEnvironmentFile('environments/prod.yaml');

describe('the Hsn723 fixture', () => {
  it('says where it comes from', () => {
    expect(text).toMatch(/^# .*Hsn723/m);
    expect(text).toContain('exporter/postfix_exporter.go');
    expect(text).toContain('showq/showq.go');
  });

  it('holds every exporter series name the rules and the dashboard read', () => {
    const fixture = names(samples);
    const used = new Set([...usedSeriesNames(prod), ...usedSeriesNames(loadEnvironmentFile('environments/dev.yaml'))]);
    const fromExporter = [...used].filter((n) => ['hsn723', 'kumina-0.3.0'].includes(metricFor(n)?.source ?? ''));
    expect(fromExporter.length).toBeGreaterThan(10);
    for (const n of fromExporter) expect(fixture.has(n), `${n} in ${FIXTURE}`).toBe(true);
    for (const m of (Object.values(METRICS) as MetricInfo[]).filter((x) => x.source === 'hsn723')) expect(fixture.has(m.name), m.name).toBe(true);
  });

  it('has the showq postfix_up series and the log-file one the rules must ignore', () => {
    const paths = samples.filter((s) => s.name === 'postfix_up').map((s) => s.labels.path);
    expect(paths).toEqual(['/var/log/postfix/postfix.log', TARGETS.showqSocket]);
  });

  it('writes le the way the rules match it', () => {
    const les = new Set(samples.filter((s) => s.name === 'postfix_showq_message_age_seconds_bucket').map((s) => s.labels.le));
    expect(les.has('1000')).toBe(true);
    expect([...les].some((le) => new RegExp(`^(?:${leMatcher(1e6).re})$`).test(le ?? ''))).toBe(true);
  });
});
