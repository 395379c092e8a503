import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/delivery/args';

const spec = {
  repo: { type: 'string' },
  layout: { type: 'string', choices: ['folders', 'branches'] },
  attempts: { type: 'string', minInteger: 1 },
  'allow-dirty': { type: 'boolean' },
} as const;

describe('parseArgs', () => {
  it('reads --name value, --name=value and flags', () => {
    expect(parseArgs(['--repo', '../g.git', '--layout=branches', '--allow-dirty', '--attempts', '3'], spec)).toEqual({
      repo: '../g.git',
      layout: 'branches',
      'allow-dirty': true,
      attempts: '3',
    });
    expect(parseArgs(['-h'], spec)).toEqual({ help: true });
  });

  it.each([
    [['--rpeo', 'x'], 'unknown option --rpeo (known: --repo, --layout, --attempts, --allow-dirty)'],
    [['--repo'], '--repo needs a value'],
    [['--repo', '--allow-dirty'], '--repo needs a value'],
    [['--repo='], '--repo needs a value (got an empty string)'],
    [['--layout', 'trees'], '--layout must be one of folders, branches (got "trees")'],
    [['--attempts', '0'], '--attempts must be a whole number of at least 1 (got "0")'],
    [['--allow-dirty=yes'], '--allow-dirty takes no value (got "yes")'],
    [['main'], 'unexpected argument "main" (options start with --)'],
  ])('%j: %s', (argv, message) => {
    expect(() => parseArgs(argv, spec)).toThrow(new UsageError(message));
  });
});
