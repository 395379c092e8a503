import { describe, expect, it } from 'vitest';
import { applicationMismatches, placement } from '../../src/delivery/applications';
import { renderDist } from '../../src/output';
import { sampleManifests } from '../output/fixtures';

const REPO = 'https://github.com/bionicaisolutions/email-server-gitops.git';
const tree = (layout: 'folders' | 'branches' = 'folders', targetRevision?: string) =>
  renderDist(
    sampleManifests().map((m) => ({ ...m, env: { ...m.env, argocd: { ...m.env.argocd, repoURL: REPO, layout, targetRevision } } })),
    { version: '1.0.0' },
  );

describe('the Applications against the publish target', () => {
  it('match when the repository is the same, however it is written', () => {
    for (const repo of [REPO, 'git@github.com:bionicaisolutions/email-server-gitops', 'https://x-access-token:t@github.com/bionicaisolutions/email-server-gitops']) {
      expect(applicationMismatches(tree(), { repo, branch: 'main', layout: 'folders' })).toEqual([]);
    }
    expect(applicationMismatches(tree('branches'), { repo: REPO, branch: 'main', layout: 'branches' })).toEqual([]);
  });

  it('another repository: one line per environment, the token left out', () => {
    const problems = applicationMismatches(tree(), { repo: 'https://x-access-token:t@github.com/other/gitops.git', branch: 'main', layout: 'folders' });
    expect(problems).toHaveLength(3);
    expect(problems[0]).toBe(
      'environments/dev.yaml: argocd.repoURL: the dev Application follows "https://github.com/bionicaisolutions/email-server-gitops.git", but this publish writes to "https://***@github.com/other/gitops.git": set argocd.repoURL to the repository you publish to (or publish to the one it names)',
    );
  });

  it('another branch, and each layout\'s advice', () => {
    expect(applicationMismatches(tree(), { repo: REPO, branch: 'gitops', layout: 'folders' })[0]).toBe(
      'environments/dev.yaml: argocd.targetRevision: the dev Application follows "main", but this publish (--layout folders) writes dev to branch "gitops": set argocd.targetRevision: gitops, or publish with --branch main',
    );
    expect(applicationMismatches(tree(), { repo: REPO, branch: 'main', layout: 'branches' })[0]).toContain('writes dev to branch "env/dev": set argocd.layout: branches');
    expect(applicationMismatches(tree('branches'), { repo: REPO, branch: 'main', layout: 'folders' })[0]).toContain('publish with --layout branches');
  });

  it('placement: the folder is always the environment name; the branch follows the layout', () => {
    expect(placement('qa', { repo: REPO, branch: 'main', layout: 'folders' })).toEqual({ branch: 'main', path: 'qa' });
    expect(placement('qa', { repo: REPO, branch: 'main', layout: 'branches' })).toEqual({ branch: 'env/qa', path: 'qa' });
  });
});
