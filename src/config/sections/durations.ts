/** Seconds of a duration in the schema's notation (`formats.duration`: ms, s, m, h, d; e.g. 1h30m). */
export function seconds(text: string): number {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
  let total = 0;
  for (const m of text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) total += Number(m[1]) * (units[m[2] as string] as number);
  return total;
}
