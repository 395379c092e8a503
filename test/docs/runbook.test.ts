import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadEnvironmentFile } from '../../src/config/load';
import { ALERTS, isAlertRule, renderRuleGroups, runbookAnchor } from '../../src/monitoring/rules';
import { anchors, read, ROOT, sections } from './markdown';

const RUNBOOK = 'docs/RUNBOOK.md';

describe('docs/RUNBOOK.md has one section per alert', () => {
  const text = read(RUNBOOK);
  const headings = sections(text);

  it('lists alerts', () => {
    expect(ALERTS.length).toBeGreaterThanOrEqual(3);
  });

  for (const alert of ALERTS) {
    it(`${alert.name}: a section whose anchor is the alert's runbook link, with its severity`, () => {
      expect(headings).toContain(alert.name);
      expect(anchors(text)).toContain(runbookAnchor(alert.name));
      const body = text.split(/^## /m).find((s) => s.startsWith(`${alert.name}\n`)) ?? '';
      expect(body).toContain(`**Severity** ${alert.severity}`);
      if (alert.onlyWhen) {
        // The condition is stated in the section, or in an introduction paragraph naming the alert.
        const fields = alert.onlyWhen.split(' and ').map((f) => `\`${f.trim()}\``);
        const intro = text.split(/^## PostfixRelay/m)[0]!.split(/\n\s*\n/);
        const stated = [body, ...intro.filter((p) => p.includes(alert.name))].some((p) => fields.every((f) => p.includes(f)));
        expect(stated, `${alert.name}: the runbook says it exists only with ${alert.onlyWhen}`).toBe(true);
      }
    });
  }

  it('has no section for an alert that does not exist', () => {
    const names = new Set(ALERTS.map((a) => a.name));
    expect(headings.filter((h) => /^PostfixRelay/.test(h) && !names.has(h))).toEqual([]);
  });

  it('lists the alerts in rule order', () => {
    expect(headings.filter((h) => /^PostfixRelay/.test(h))).toEqual(ALERTS.map((a) => a.name));
  });

  for (const env of ['dev', 'staging', 'prod']) {
    it(`every runbook_url of ${env}'s rules points at a section of this file`, () => {
      const config = loadEnvironmentFile(join(ROOT, 'environments', `${env}.yaml`));
      const urls = renderRuleGroups(config).flatMap((g) => g.rules.filter(isAlertRule).map((r) => r.annotations.runbook_url ?? ''));
      expect(urls.length).toBeGreaterThan(0);
      for (const url of urls) {
        const [base, anchor] = url.split('#');
        expect(base).toMatch(/\/docs\/RUNBOOK\.md$/);
        expect(anchors(text)).toContain(anchor);
      }
    });
  }
});
