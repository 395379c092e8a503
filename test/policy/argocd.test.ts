import { describe, expect, it, vi } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { argoApplication } from '../../src/output/argocd';
import { validateArgoApplication } from '../../src/policy/argocd';
import { renderEnvironments, ValidationError } from '../../src/synth';

// Issue 12: the Argo CD Applications of dist/argocd/ are checked against Argo CD's Application
// schema (@kubernetes-models/argo-cd) at synth, like every chart object against its own.

const broken = vi.hoisted(() => ({ destination: undefined as unknown }));
vi.mock('../../src/output/argocd', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/output/argocd')>();
  return {
    ...real,
    argoApplication: (...args: Parameters<typeof real.argoApplication>) => {
      const application = real.argoApplication(...args);
      if (broken.destination !== undefined) (application.spec as Record<string, unknown>).destination = broken.destination;
      return application;
    },
  };
});

const ENVS = ['dev', 'staging', 'prod'] as const;
const load = (name: string) => loadEnvironmentFile(`environments/${name}.yaml`);
// A deep copy we may break.
const application = (name: string) => structuredClone(argoApplication(load(name))) as Record<string, any>;

describe('Argo CD Application validation', () => {
  it.each(ENVS)('passes for the Application of %s', (name) => {
    expect(validateArgoApplication(name, application(name))).toEqual([]);
  });

  it('names the environment, Application, field, expectation and bad value', () => {
    const a = application('prod');
    a.spec.destination = 'in-cluster';
    expect(validateArgoApplication('prod', a)).toEqual(['[schema] prod: Application/email-server-prod: spec.destination: must be object (got "in-cluster")']);
  });

  it('reports a missing required field under its own name', () => {
    const a = application('staging');
    delete a.spec.project;
    expect(validateArgoApplication('staging', a)).toEqual(['[schema] staging: Application/email-server-staging: spec.project: is required (got nothing)']);
  });

  it('checks nested fields (syncPolicy.automated)', () => {
    const a = application('dev');
    a.spec.syncPolicy.automated = { prune: 'yes', selfHeal: true };
    expect(validateArgoApplication('dev', a)).toEqual(['[schema] dev: Application/email-server-dev: spec.syncPolicy.automated.prune: must be boolean (got "yes")']);
  });

  it('refuses an object that is not an argoproj.io/v1alpha1 Application', () => {
    const a = application('dev');
    a.apiVersion = 'argoproj.io/v1beta1';
    expect(validateArgoApplication('dev', a)).toEqual([
      '[schema] dev: Application/email-server-dev: apiVersion, kind: must be argoproj.io/v1alpha1 Application (got "argoproj.io/v1beta1 Application")',
    ]);
  });

  it('runs at synth: a malformed Application refuses the whole synth, with the message', () => {
    broken.destination = { server: 42 };
    try {
      const envs = ENVS.map(load);
      expect(() => renderEnvironments(envs)).toThrow(ValidationError);
      expect(() => renderEnvironments(envs)).toThrow(
        /synth refused: 3 check\(s\) failed:\n {2}\[schema\] dev: Application\/email-server-dev: spec\.destination\.server: must be string \(got 42\)\n/,
      );
    } finally {
      broken.destination = undefined;
    }
    expect(renderEnvironments([load('dev')])).toHaveLength(1);
  });

  it('skips environments without an Application (argocd.enabled: false)', () => {
    broken.destination = 'in-cluster';
    try {
      const dev = load('dev');
      expect(renderEnvironments([{ ...dev, argocd: { ...dev.argocd, enabled: false } }])).toHaveLength(1);
    } finally {
      broken.destination = undefined;
    }
  });
});
