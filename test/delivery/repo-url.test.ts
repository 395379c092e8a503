import { describe, expect, it } from 'vitest';
import { normaliseRepoUrl, redactUrl } from '../../src/delivery/repo-url';

describe('normaliseRepoUrl', () => {
  it.each([
    'https://github.com/bionicaisolutions/email-server-gitops.git',
    'https://github.com/bionicaisolutions/email-server-gitops',
    'https://github.com/bionicaisolutions/email-server-gitops/',
    'https://GitHub.com/bionicaisolutions/email-server-gitops.git',
    'https://x-access-token:ghs_secret@github.com/bionicaisolutions/email-server-gitops.git',
    'git@github.com:bionicaisolutions/email-server-gitops.git',
    'ssh://git@github.com/bionicaisolutions/email-server-gitops',
    'ssh://git@github.com:22/bionicaisolutions/email-server-gitops.git',
    'https://github.com:443/bionicaisolutions/email-server-gitops',
  ])('%s is github.com/bionicaisolutions/email-server-gitops', (url) => {
    expect(normaliseRepoUrl(url)).toBe('github.com/bionicaisolutions/email-server-gitops');
  });

  it('keeps what tells repositories apart: the path (its case too), another host, another port', () => {
    expect(normaliseRepoUrl('https://github.com/org/Repo')).not.toBe(normaliseRepoUrl('https://github.com/org/repo'));
    expect(normaliseRepoUrl('https://gitlab.com/org/repo')).not.toBe(normaliseRepoUrl('https://github.com/org/repo'));
    expect(normaliseRepoUrl('https://git.example.com:8443/org/repo')).toBe('git.example.com:8443/org/repo');
  });

  it('a local path, relative or absolute, and its file:// URL are the same repository', () => {
    expect(normaliseRepoUrl('/srv/git/gitops.git')).toBe('file:///srv/git/gitops');
    expect(normaliseRepoUrl('file:///srv/git/gitops.git')).toBe('file:///srv/git/gitops');
    expect(normaliseRepoUrl('../git/gitops.git', '/srv/work')).toBe('file:///srv/git/gitops');
  });
});

describe('redactUrl', () => {
  it.each([
    ['https://x-access-token:ghs_abc@github.com/org/repo.git', 'https://***@github.com/org/repo.git'],
    ['https://gitlab-ci-token:glcbt-xyz@gitlab.com/org/repo.git', 'https://***@gitlab.com/org/repo.git'],
    ['https://oauth2:tok@gitlab.com/org/repo.git', 'https://***@gitlab.com/org/repo.git'],
    ['https://user:pass@git.example.com/r', 'https://***@git.example.com/r'],
    ['https://ghp_tokenonly@github.com/org/repo', 'https://***@github.com/org/repo'],
    ['ssh://git:secret@git.example.com/r', 'ssh://***@git.example.com/r'],
    ['ssh://git@github.com/org/repo', 'ssh://git@github.com/org/repo'],
    ['/srv/git/gitops.git', '/srv/git/gitops.git'],
  ])('%s -> %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});
