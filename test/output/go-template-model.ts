/**
 * A model of how Go's text/template (which Helm runs on every file in templates/) lexes text:
 * everything up to `{{` is text; from `{{` an action runs to its `}}`. The only action this
 * model evaluates is a quoted string constant, which prints its value: exactly the escape
 * construct the writer uses. Any other action throws, naming where it is, because Helm would
 * evaluate it instead of printing it. Independent of src/output/go-template.ts on purpose.
 */
export function renderLikeHelm(template: string, file = 'template'): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{{', i);
    if (open < 0) return out + template.slice(i);
    out += template.slice(i, open);
    const m = /^\{\{"((?:[^"\\\n]|\\.)*)"\}\}/.exec(template.slice(open));
    if (!m) {
      const line = template.slice(0, open).split('\n').length;
      throw new Error(`${file}:${line}: unescaped template action: ${template.slice(open, open + 40)}`);
    }
    out += JSON.parse(`"${m[1]}"`) as string;
    i = open + m[0].length;
  }
  return out;
}
