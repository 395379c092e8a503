/**
 * Small PromQL building blocks, so that every selector quotes and escapes its values the same
 * way and the rules read as the conditions they express.
 */

export type Matcher = string | { readonly re: string } | { readonly ne: string } | { readonly nre: string };

/** `name{a="b", c=~"d"}`; values are quoted as PromQL (Go) string literals. */
export function selector(name: string, matchers: Readonly<Record<string, Matcher>>): string {
  const parts = Object.entries(matchers).map(([label, m]) => {
    if (typeof m === 'string') return `${label}=${quote(m)}`;
    if ('re' in m) return `${label}=~${quote(m.re)}`;
    if ('nre' in m) return `${label}!~${quote(m.nre)}`;
    return `${label}!=${quote(m.ne)}`;
  });
  return `${name}{${parts.join(', ')}}`;
}

/** A PromQL double-quoted string literal (JSON escaping is a subset of Go's). */
export function quote(value: string): string {
  return JSON.stringify(value);
}

/** Escapes a literal for use inside a regular expression matcher. */
export function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Matches a classic histogram's `le` label for `bound` as Prometheus 2 stores it (the exporter's
 * text, e.g. "1000" or "1e+06") and as Prometheus 3 normalises it ("1000.0").
 */
export function leMatcher(bound: number): { re: string } {
  const text = goFloat(bound);
  return { re: /[e.]/.test(text) ? escapeRegex(text) : `${escapeRegex(text)}(\\.0)?` };
}

/**
 * Go's strconv.FormatFloat(f, 'g', -1, 64), which client_golang uses for `le`: the shortest
 * digits, in exponent form (two-digit exponent) when the exponent is below -4 or at least 6.
 */
export function goFloat(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : value < 0 ? '-Inf' : 'NaN';
  if (value === 0) return '0';
  const [mantissa, exp] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 6) {
    const digits = String(Math.abs(exponent)).padStart(2, '0');
    return `${mantissa}e${exponent < 0 ? '-' : '+'}${digits}`;
  }
  return String(value);
}

/** Parses a Prometheus duration (1h30m, 90s, 500ms) into seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
  const re = /([0-9]+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = re.exec(text); match; match = re.exec(text)) {
    total += Number(match[1]) * (units[match[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || text.length === 0) throw new Error(`not a Prometheus duration: "${text}"`);
  return total;
}

/** Formats whole seconds as the shortest Prometheus duration (1h30m, 13m20s, 45s). */
export function formatDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`not a whole number of seconds: ${seconds}`);
  if (seconds === 0) return '0s';
  let rest = seconds;
  let out = '';
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
