import type { Hole } from '../../src/output/helm-templates';
import { renderLikeHelm } from './go-template-model';

/**
 * Renders a generated template the way Helm would with the chart's default values, for unit
 * tests: each value action is replaced by the JSON of what the synthesized object holds at its
 * field (the default values are the environment's, so that is what Helm prints), optional
 * blocks are kept or dropped as `{{- with }}` would, and the rest goes through the
 * escape-only model of text/template. The real Helm test (test/integration/helm-values.test.ts)
 * checks the same against the helm binary.
 */
export function renderWithDefaults(template: string, object: Record<string, unknown>, holes: readonly Hole[], file: string): string {
  let text = template;
  for (const hole of holes) {
    const value = valueAt(object, hole.path);
    if (hole.omitEmpty) {
      const block = `{{- with ${hole.value} }}\n`;
      const start = text.indexOf(block);
      const endMarker = '\n{{- end }}';
      const end = text.indexOf(endMarker, start);
      if (start < 1 || end < 0 || text[start - 1] !== '\n') throw new Error(`${file}: no optional block for ${hole.path.join('.')}`);
      const inner = text.slice(start + block.length, end);
      if (!/^ *[^:\n]+: \{\{ toJson \. \}\}$/.test(inner)) throw new Error(`${file}: unexpected optional block ${JSON.stringify(inner)}`);
      const empty = value === undefined || value === '' || (typeof value === 'object' && value !== null && Object.keys(value).length === 0);
      // `{{-` eats the newline before it: the block becomes its one line, or nothing.
      const kept = empty ? '' : `\n${inner.replace('{{ toJson . }}', () => JSON.stringify(value))}`;
      text = text.slice(0, start - 1) + kept + text.slice(end + endMarker.length);
    } else {
      const action = `{{ ${hole.value} | toJson }}`;
      if (text.split(action).length !== 2) throw new Error(`${file}: expected one ${action}`);
      if (value === undefined) throw new Error(`${file}: the object has no ${hole.path.join('.')}`);
      text = text.replace(action, () => JSON.stringify(value));
    }
  }
  return renderLikeHelm(text, file);
}

function valueAt(object: unknown, path: readonly (string | number)[]): unknown {
  let node = object;
  for (const key of path) node = node === null || typeof node !== 'object' ? undefined : (node as Record<string | number, unknown>)[key];
  return node;
}
