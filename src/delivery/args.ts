/** A mistake in the command line: the command prints its usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** Allowed values of a string option. */
  readonly choices?: readonly string[];
  /** A whole number of at least this (string options that are counts). */
  readonly minInteger?: number;
}

/**
 * `--name value`, `--name=value` and `--flag`; nothing positional. Every problem is a
 * UsageError that names the option, the value and what is allowed.
 */
export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, OptionSpec>>): Record<string, string | boolean | undefined> {
  const out: Record<string, string | boolean | undefined> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      out.help = true;
      continue;
    }
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg);
    if (!m) throw new UsageError(`unexpected argument ${JSON.stringify(arg)} (options start with --)`);
    const name = m[1]!;
    const opt = spec[name];
    if (!opt) throw new UsageError(`unknown option --${name} (known: ${Object.keys(spec).map((k) => `--${k}`).join(', ')})`);
    if (opt.type === 'boolean') {
      if (m[2] !== undefined) throw new UsageError(`--${name} takes no value (got ${JSON.stringify(m[2])})`);
      out[name] = true;
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    if (value === '') throw new UsageError(`--${name} needs a value (got an empty string)`);
    if (opt.choices && !opt.choices.includes(value)) throw new UsageError(`--${name} must be one of ${opt.choices.join(', ')} (got ${JSON.stringify(value)})`);
    if (opt.minInteger !== undefined && (!/^\d+$/.test(value) || Number(value) < opt.minInteger)) {
      throw new UsageError(`--${name} must be a whole number of at least ${opt.minInteger} (got ${JSON.stringify(value)})`);
    }
    out[name] = value;
  }
  return out;
}
