import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeGoTemplate, unescapeGoTemplate } from '../../src/output/go-template';

/**
 * A model of how Go's text/template lexes text: everything up to `{{` is text; from `{{` to the
 * next `}}` outside a string is an action. The only action allowed is a quoted string, which
 * prints its value. Anything else is what Helm would try to evaluate: an error here.
 */
function renderLikeGo(template: string): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open < 0) return out + template.slice(i);
    out += template.slice(i, open);
    const m = /^\{\{"((?:[^"\\]|\\.)*)"\}\}/.exec(template.slice(open));
    if (!m) throw new Error(`action that is not a string constant at ${open}: ${template.slice(open, open + 20)}`);
    out += JSON.parse(`"${m[1]}"`) as string;
    i = open + m[0].length;
  }
  return out;
}

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
