/**
 * One check for every string of an environment, whatever its field: the schema calls
 * `checkStrings` once on the whole parsed object, so a field added tomorrow is covered without
 * anyone remembering to add it here.
 *
 * - Control and invisible format characters (C0 and C1 controls such as NUL, TAB, LF and NEL,
 *   DEL, LS U+2028, PS U+2029, bidirectional overrides, zero-width characters, BOM) are refused
 *   everywhere: a value is written into main.cf, YAML manifests, Helm templates and alert
 *   annotations, and each reader splits lines differently (Postfix ends a main.cf line at LF, a
 *   YAML reader also at NEL, LS and PS), so the value a policy checked would not be the value
 *   that runs. Keys of maps (labels) are checked the same way.
 * - `$` is refused everywhere too: Postfix expands `$name` and `${name}` in main.cf, so
 *   `/etc/ssl/$mydomain.pem` would not be the file it says. Only the values of
 *   postfix.extraMainCf (raw main.cf values, where $name is Postfix syntax) may hold references:
 *   fields that may are declared in POSTFIX_REFERENCE_FIELDS (`*`: any key or index).
 */

/** Characters no configuration string may contain (Unicode general categories Cc, Cf, Zl, Zp). */
const FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Dotted field paths (`*` for any map key or list index) whose values may use `$name` references. */
export const POSTFIX_REFERENCE_FIELDS: ReadonlySet<string> = new Set<string>(['postfix.extraMainCf.*']);

const NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x09: 'TAB',
  0x0a: 'LF',
  0x0d: 'CR',
  0x1b: 'ESC',
  0x7f: 'DEL',
  0x85: 'NEL',
  0xad: 'SOFT HYPHEN',
  0x200b: 'ZERO WIDTH SPACE',
  0x200e: 'LRM',
  0x200f: 'RLM',
  0x2028: 'LINE SEPARATOR',
  0x2029: 'PARAGRAPH SEPARATOR',
  0x202e: 'RLO',
  0xfeff: 'BOM',
};

/** `U+0085 (NEL)`: how a message names a character. */
export function describeCharacter(ch: string): string {
  const code = ch.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return NAMES[code] ? `${hex} (${NAMES[code]})` : hex;
}

/** The problem with one string of the configuration, or undefined. */
export function stringProblem(value: string, allowPostfixReferences = false): string | undefined {
  const bad = FORBIDDEN.exec(value);
  if (bad) {
    return `must not contain control or invisible characters: ${describeCharacter(bad[0])} at character ${[...value.slice(0, bad.index)].length + 1}`;
  }
  if (value.includes('$') && !allowPostfixReferences) {
    return 'must not contain "$": Postfix (main.cf) and Prometheus (alert templates) expand $name, so the value would not mean what it says';
  }
  return undefined;
}

/**
 * Reports every string (and every map key) below `value` that `stringProblem` refuses, with its
 * path. `issue` is the schema's superRefine reporter.
 */
export function checkStrings(value: unknown, issue: (path: (string | number)[], message: string) => void, path: (string | number)[] = []): void {
  if (typeof value === 'string') {
    const pattern = path.map((p) => (typeof p === 'number' ? '*' : p)).join('.');
    const anyKey = [...path.slice(0, -1).map((p) => (typeof p === 'number' ? '*' : p)), '*'].join('.');
    const problem = stringProblem(value, POSTFIX_REFERENCE_FIELDS.has(pattern) || POSTFIX_REFERENCE_FIELDS.has(anyKey));
    if (problem) issue(path, problem);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkStrings(item, issue, [...path, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const keyProblem = FORBIDDEN.test(key) || key.includes('$') ? stringProblem(key) : undefined;
      if (keyProblem) issue([...path, key], `its key ${keyProblem}`);
      checkStrings(item, issue, [...path, key]);
    }
  }
}
