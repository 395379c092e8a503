import { describe, expect, it } from 'vitest';
import { imageReference } from '../../src/policy/images';
import { expand, masterCfOverrides, parseMainCf } from '../../src/policy/main-cf';
import { toCidr } from '../../src/policy/network';
import { mapSelectorMatches, selectorMatches } from '../../src/policy/objects';
import { parseQuantity } from '../../src/policy/quantity';

describe('parseQuantity', () => {
  it.each([
    ['100m', 0.1],
    ['0.5', 0.5],
    [2, 2],
    ['128Mi', 128 * 2 ** 20],
    ['1Gi', 2 ** 30],
    ['1G', 1e9],
    ['1e3', 1000],
    ['1E', 1e18],
    ['.5', 0.5],
    ['250u', 0.00025],
  ])('%s', (input, expected) => {
    expect(parseQuantity(input)).toBeCloseTo(expected as number, 9);
  });
  it.each(['', 'lots', '1Mb', '1 Gi', '--1', null, {}, Number.NaN])('refuses %s', (input) => {
    expect(parseQuantity(input)).toBeUndefined();
  });
});

describe('main.cf reading', () => {
  const text = [
    '# comment',
    'mynetworks = 10.0.0.0/8,',
    '    192.168.0.0/16',
    '# a comment inside a continuation does not end it',
    '    172.16.0.0/12',
    '',
    'smtp_tls_security_level = may',
    'level = secure',
    'smtp_tls_security_level = $level',
    'x=${level}',
  ].join('\n');
  const params = parseMainCf(text);
  it('joins continuation lines and skips comments', () => {
    expect(params.get('mynetworks')).toBe('10.0.0.0/8, 192.168.0.0/16 172.16.0.0/12');
  });
  it('keeps the last definition and expands references', () => {
    expect(expand(params.get('smtp_tls_security_level')!, params)).toBe('secure');
    expect(expand(params.get('x')!, params)).toBe('secure');
    expect(expand('$undefined', params)).toBe('$undefined');
  });
  it('survives self-reference', () => {
    const loop = parseMainCf('a = $b\nb = $a');
    expect(typeof expand('$a', loop)).toBe('string');
  });
  it('finds master.cf -o overrides, also on continuation lines, not in comments', () => {
    const master = ['relay unix - - n - - smtp', '  -o smtp_tls_security_level=may', '#  -o smtp_tls_security_level=none', 'smtp unix - - n - - smtp -o smtp_tls_security_level=encrypt'].join('\n');
    expect(masterCfOverrides(master, 'smtp_tls_security_level')).toEqual(['may', 'encrypt']);
  });
});

describe('imageReference', () => {
  it.each([
    ['postfix', {}],
    ['postfix:1.9.0', { tag: '1.9.0' }],
    ['registry:5000/team/postfix', {}],
    ['registry:5000/team/postfix:1.0', { tag: '1.0' }],
    ['postfix@sha256:abc', { digest: 'sha256:abc' }],
    ['ghcr.io/x/y:1@sha256:abc', { tag: '1', digest: 'sha256:abc' }],
  ])('%s', (image, expected) => {
    expect(imageReference(image)).toEqual(expected);
  });
});

describe('label selectors', () => {
  const labels = { app: 'relay', tier: 'mail' };
  it('matchLabels and matchExpressions', () => {
    expect(selectorMatches({ matchLabels: { app: 'relay' } }, labels)).toBe(true);
    expect(selectorMatches({ matchLabels: { app: 'other' } }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['mail', 'x'] }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['mail'] }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }, labels)).toBe(true);
    expect(selectorMatches({ matchExpressions: [{ key: 'zone', operator: 'Exists' }] }, labels)).toBe(false);
    expect(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Bogus' }] }, labels)).toBe(false);
  });
  it('an empty LabelSelector selects everything, a missing one nothing', () => {
    expect(selectorMatches({}, labels)).toBe(true);
    expect(selectorMatches(undefined, labels)).toBe(false);
  });
  it('a Service selector must be non-empty to select anything', () => {
    expect(mapSelectorMatches({ app: 'relay' }, labels)).toBe(true);
    expect(mapSelectorMatches({}, labels)).toBe(false);
    expect(mapSelectorMatches(undefined, labels)).toBe(false);
  });
});

describe('toCidr (mynetworks entries)', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['10.1.2.3', '10.1.2.3/32'],
    ['[::1]/128', '::1/128'],
    ['[fd00::]/8', 'fd00::/8'],
    ['[fd00::1]', 'fd00::1/128'],
    ['hash:/etc/postfix/network', undefined],
    ['10.0.0.0/33', undefined],
    ['/etc/postfix/networks', undefined],
  ])('%s', (entry, expected) => {
    expect(toCidr(entry)).toBe(expected);
  });
});
