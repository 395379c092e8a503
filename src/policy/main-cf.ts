/**
 * Reads the rendered Postfix configuration back, so the policy checks what Postfix will run
 * rather than what the environment file asked for (a construct could render something else).
 */

/** Parameters of a main.cf: continuation lines joined, comments dropped, the last definition wins. */
export function parseMainCf(text: string): Map<string, string> {
  const params = new Map<string, string>();
  let current: [string, string] | undefined;
  const flush = () => {
    if (current) params.set(current[0], current[1].trim());
    current = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    // main.cf(5): empty lines and lines whose first non-blank is "#" are ignored entirely.
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^\s/.test(line)) {
      if (current) current[1] += ` ${line.trim()}`;
      continue;
    }
    flush();
    const m = /^([A-Za-z0-9_]+)\s*=\s*(.*)$/.exec(line);
    if (m) current = [m[1]!, m[2]!];
  }
  flush();
  return params;
}

/** Expands `$name` and `${name}` from the same file (not Postfix' built-in defaults). */
export function expand(value: string, params: ReadonlyMap<string, string>, depth = 0): string {
  if (depth > 10) return value;
  return value.replace(/\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (whole, a: string | undefined, b: string | undefined) => {
    const inner = params.get((a ?? b)!);
    return inner === undefined ? whole : expand(inner, params, depth + 1);
  });
}

/** `-o name=value` overrides in master.cf (continuation lines included), in file order. */
export function masterCfOverrides(text: string, name: string): string[] {
  const out: string[] = [];
  const re = new RegExp(`(?:^|\\s)-o\\s+${name}\\s*=\\s*(\\S*)`, 'g');
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*#/.test(line)) continue;
    for (const m of line.matchAll(re)) out.push(m[1]!);
  }
  return out;
}
