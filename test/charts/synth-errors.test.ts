import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildApp, synthesize, validateApp, ValidationError } from '../../src/synth';
import { loadEnv } from './render';

// src/synth.ts end to end, in process: how refusals are reported, and what synthesize() writes.
describe('validateApp', () => {
  it('lists every failure, policy findings as they are and other construct validations under their path', () => {
    const env = loadEnv('dev');
    const { app, charts } = buildApp([env]);
    const chart = charts.get(env)!;
    const extra = new Construct(chart, 'Extra');
    extra.node.addValidation({ validate: () => ['a plain problem'] });
    extra.node.addValidation({ validate: () => ['[custom.rule] dev: a policy-style finding'] });
    let error: unknown;
    try {
      validateApp(app);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    expect(e.name).toBe('ValidationError');
    expect(e.failures).toEqual(['dev/Extra: a plain problem', '[custom.rule] dev: a policy-style finding']);
    expect(e.message).toBe('synth refused: 2 check(s) failed:\n  dev/Extra: a plain problem\n  [custom.rule] dev: a policy-style finding');
  });

  it('passes the shipped environments', () => {
    const { app } = buildApp(['dev', 'staging', 'prod'].map(loadEnv));
    expect(() => validateApp(app)).not.toThrow();
  });
});

describe('synthesize', () => {
  it('writes dist/ for every environment, stamping the given version on the Helm charts', () => {
    const out = mkdtempSync(join(tmpdir(), 'synthesize-'));
    try {
      const written = synthesize({ environmentsDir: 'environments', outdir: join(out, 'dist'), version: '3.2.1' });
      expect(written.map((m) => m.env.name)).toEqual(['dev', 'prod', 'staging']);
      for (const name of ['dev', 'prod', 'staging']) {
        const chart = parse(readFileSync(join(out, 'dist', 'helm', `email-server-${name}`, 'Chart.yaml'), 'utf8')) as { version: string };
        expect(chart.version).toMatch(/^3\.2\.1(\+|$)/);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
