/**
 * The provenance of the CI artifact: an in-toto Statement (v1) whose predicate is SLSA
 * Provenance v1 (https://slsa.dev/spec/v1.0/provenance). It names the tarball by digest, the
 * source repository and commit, and the command that built it. It is written by the build
 * itself and unsigned (SLSA Build L1); docs/DELIVERY.md says how CI signs it.
 */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** What the build does, documented in docs/DELIVERY.md ("The CI artifact"). */
export const BUILD_TYPE = 'https://github.com/bionicaisolutions/email-server/blob/main/docs/DELIVERY.md#the-ci-artifact-npm-run-package';

export interface ProvenanceInput {
  readonly artifactName: string;
  readonly artifactSha256: string;
  readonly sourceRepository: string;
  readonly sourceCommit: string;
  readonly sourceDirty: boolean;
  /** The command as a user types it. */
  readonly command: string;
  readonly sourceDateEpoch: number;
  readonly toolVersion: string;
  /** sha256 of package-lock.json: the dependencies the synth ran with. */
  readonly lockfileSha256: string;
  /** process.env (for the CI system that ran the build). */
  readonly env: NodeJS.ProcessEnv;
}

const gitUri = (repo: string, commit: string) => `git+${repo}@${commit}`;

/** Who ran the build: the CI job when there is one. */
export function builder(env: NodeJS.ProcessEnv): { builder: { id: string }; metadata?: { invocationId: string } } {
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY) {
    const server = env.GITHUB_SERVER_URL;
    const id = env.GITHUB_WORKFLOW_REF ? `${server}/${env.GITHUB_WORKFLOW_REF}` : `${server}/${env.GITHUB_REPOSITORY}/actions`;
    return {
      builder: { id },
      ...(env.GITHUB_RUN_ID ? { metadata: { invocationId: `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}/attempts/${env.GITHUB_RUN_ATTEMPT ?? '1'}` } } : {}),
    };
  }
  if (env.GITLAB_CI === 'true' && env.CI_SERVER_URL && env.CI_PROJECT_PATH) {
    return {
      builder: { id: `${env.CI_SERVER_URL}/${env.CI_PROJECT_PATH}/-/blob/${env.CI_COMMIT_SHA ?? 'HEAD'}/.gitlab-ci.yml` },
      ...(env.CI_JOB_URL ? { metadata: { invocationId: env.CI_JOB_URL } } : {}),
    };
  }
  return { builder: { id: 'urn:email-server:builder:local' } };
}

export function provenanceStatement(p: ProvenanceInput): Record<string, unknown> {
  const run = builder(p.env);
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: p.artifactName, digest: { sha256: p.artifactSha256 } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          command: p.command,
          source: { uri: `git+${p.sourceRepository}`, digest: { gitCommit: p.sourceCommit } },
          sourceDirty: p.sourceDirty,
          sourceDateEpoch: p.sourceDateEpoch,
        },
        internalParameters: { toolVersion: p.toolVersion, node: process.version, zlib: process.versions.zlib },
        resolvedDependencies: [
          { uri: gitUri(p.sourceRepository, p.sourceCommit), digest: { gitCommit: p.sourceCommit } },
          { name: 'package-lock.json', digest: { sha256: p.lockfileSha256 } },
        ],
      },
      runDetails: run,
    },
  };
}
