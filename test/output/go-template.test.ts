import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeGoTemplate, unescapeGoTemplate } from '../../src/output/go-template';
import { renderLikeHelm as renderLikeGo } from './go-template-model';

describe('Go-template escaping for Helm templates', () => {
  it('escapes Prometheus annotations so Helm prints them unchanged', () => {
    const text = 'summary: "Queue on {{ $labels.instance }} is {{ $value | humanize }}"';
    const escaped = escapeGoTemplate(text);
    expect(escaped).toBe('summary: "Queue on {{"{{"}} $labels.instance }} is {{"{{"}} $value | humanize }}"');
    expect(renderLikeGo(escaped)).toBe(text);
    expect(unescapeGoTemplate(escaped)).toBe(text);
  });

  it('handles brace runs and trim markers', () => {
    for (const text of ['{}}', '{{{', '{{{{', '{{{{{', 'a{{- b -}}c', '{{"{{"}}', '}}{{', '{', '}']) {
      expect(renderLikeGo(escapeGoTemplate(text))).toBe(text);
      expect(unescapeGoTemplate(escapeGoTemplate(text))).toBe(text);
    }
  });

  it('renders back to the original for any text (property)', () => {
    const chars = fc.constantFrom('{', '}', '"', '-', ' ', 'x', '$', '\\', '\n');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 40 }).map((a) => a.join('')), (text) => {
        const escaped = escapeGoTemplate(text);
        expect(renderLikeGo(escaped)).toBe(text);
        expect(unescapeGoTemplate(escaped)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves text without delimiters unchanged', () => {
    expect(escapeGoTemplate('apiVersion: v1\nkind: Service\n')).toBe('apiVersion: v1\nkind: Service\n');
  });
});
