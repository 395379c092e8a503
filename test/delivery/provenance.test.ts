import { describe, expect, it } from 'vitest';
import { builder, provenanceStatement, SLSA_PROVENANCE_V1, STATEMENT_TYPE } from '../../src/delivery/provenance';

const input = {
  artifactName: 'email-server-abc.tar.gz',
  artifactSha256: 'f'.repeat(64),
  sourceRepository: 'https://github.com/bionicaisolutions/email-server.git',
  sourceCommit: 'a'.repeat(40),
  sourceDirty: false,
  command: 'npm run package',
  sourceDateEpoch: 1_769_603_696,
  toolVersion: '1.0.0',
  lockfileSha256: 'e'.repeat(64),
  env: {},
};

describe('provenance statement', () => {
  it('is an in-toto Statement v1 with a SLSA v1 predicate naming the artifact, the source and the command', () => {
    const s = provenanceStatement(input) as any;
    expect(s._type).toBe(STATEMENT_TYPE);
    expect(s.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(s.subject).toEqual([{ name: 'email-server-abc.tar.gz', digest: { sha256: 'f'.repeat(64) } }]);
    expect(s.predicate.buildDefinition.externalParameters).toEqual({
      command: 'npm run package',
      source: { uri: 'git+https://github.com/bionicaisolutions/email-server.git', digest: { gitCommit: 'a'.repeat(40) } },
      sourceDirty: false,
      sourceDateEpoch: 1_769_603_696,
    });
    expect(s.predicate.buildDefinition.resolvedDependencies[0]).toEqual({ uri: `git+https://github.com/bionicaisolutions/email-server.git@${'a'.repeat(40)}`, digest: { gitCommit: 'a'.repeat(40) } });
    expect(s.predicate.buildDefinition.internalParameters.node).toBe(process.version);
    expect(s.predicate.runDetails.builder.id).toBe('urn:email-server:builder:local');
  });

  it('names the CI job that built it', () => {
    expect(builder({ GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'o/r', GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/ci.yml@refs/heads/main', GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: '2' })).toEqual({
      builder: { id: 'https://github.com/o/r/.github/workflows/ci.yml@refs/heads/main' },
      metadata: { invocationId: 'https://github.com/o/r/actions/runs/7/attempts/2' },
    });
    expect(builder({ GITLAB_CI: 'true', CI_SERVER_URL: 'https://gitlab.com', CI_PROJECT_PATH: 'o/r', CI_COMMIT_SHA: 'abc', CI_JOB_URL: 'https://gitlab.com/o/r/-/jobs/9' })).toEqual({
      builder: { id: 'https://gitlab.com/o/r/-/blob/abc/.gitlab-ci.yml' },
      metadata: { invocationId: 'https://gitlab.com/o/r/-/jobs/9' },
    });
  });
});
