/**
 * Helm runs every file under templates/ through Go's text/template, which treats each `{{`
 * in the text as the start of an action. Prometheus alert annotations (`{{ $labels.instance }}`)
 * and the Grafana dashboard JSON contain such text, so each `{{` is written as an action that
 * prints it: `{{"{{"}}`.
 *
 * `}}` is left alone on purpose: text/template only looks for `{{` in text, and escaping `}}`
 * too would break `{}}` (the escaped `{{{"}}"}}` starts an action one character early).
 */
const OPEN = /\{\{/g;
const ESCAPED_OPEN = '{{"{{"}}';

/** Text that Go's text/template renders back to `text` exactly. */
export function escapeGoTemplate(text: string): string {
  return text.replace(OPEN, ESCAPED_OPEN);
}

/** The inverse of escapeGoTemplate: evaluates only the escape constructs it writes. */
export function unescapeGoTemplate(text: string): string {
  return text.split(ESCAPED_OPEN).join('{{');
}
