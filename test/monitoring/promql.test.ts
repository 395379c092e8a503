import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationSeconds, escapeRegex, formatDuration, goFloat, leMatcher, quote, selector } from '../../src/monitoring/promql';

describe('goFloat (the `le` text client_golang writes)', () => {
  it.each([
    [10, '10'],
    [100, '100'],
    [1000, '1000'],
    [1e5, '100000'],
    [1e6, '1e+06'],
    [1e8, '1e+08'],
    [0.001, '0.001'],
    [0.1, '0.1'],
    [1.5e6, '1.5e+06'],
    [1e-5, '1e-05'],
    [Infinity, '+Inf'],
  ])('%d -> %s', (value, text) => expect(goFloat(value)).toBe(text));
});

describe('leMatcher', () => {
  it('matches the Prometheus 2 text and the Prometheus 3 normalised form', () => {
    const re = new RegExp(`^(?:${leMatcher(1000).re})$`);
    expect('1000').toMatch(re);
    expect('1000.0').toMatch(re);
    expect('10000').not.toMatch(re);
    expect('100').not.toMatch(re);
    const big = new RegExp(`^(?:${leMatcher(1e6).re})$`);
    expect('1e+06').toMatch(big);
    expect('1e+060').not.toMatch(big);
  });
});

describe('selector', () => {
  it('quotes and escapes values', () => {
    expect(selector('m', { a: 'x"y', b: { re: escapeRegex('4.2.1') }, c: { ne: '' } })).toBe('m{a="x\\"y", b=~"4\\\\.2\\\\.1", c!=""}');
    expect(quote('a\\b')).toBe('"a\\\\b"');
  });
});

describe('durations', () => {
  it('round-trips whole seconds', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 * 86400 }), (s) => durationSeconds(formatDuration(s)) === s));
  });
  it('parses and refuses', () => {
    expect(durationSeconds('1h30m')).toBe(5400);
    expect(durationSeconds('500ms')).toBe(0.5);
    expect(() => durationSeconds('5 minutes')).toThrow(/not a Prometheus duration/);
    expect(() => formatDuration(1.5)).toThrow();
  });
});
