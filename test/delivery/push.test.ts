import { describe, expect, it } from 'vitest';
import { backoffMs, classifyPush } from '../../src/delivery/push';

/** What git 2.39 prints (--porcelain and stderr) for each case. */
describe('classifyPush', () => {
  it.each([
    ['the branch moved before the push (fetch first)', 'To /r.git\n!\tabc:refs/heads/main\t[rejected] (fetch first)\nDone\nerror: failed to push some refs to \'/r.git\''],
    ['non-fast-forward', '!\tabc:refs/heads/main\t[rejected] (non-fast-forward)'],
    ['the branch moved during the push (server side)', "remote: error: cannot lock ref 'refs/heads/main': is at 0eec983 but expected 86b5375\n!\tabc:refs/heads/main\t[remote rejected] (failed to update ref)"],
    ['a new branch someone else created first', '!\tabc:refs/heads/env/dev\t[rejected] (fetch first)'],
    ['an atomic push of several branches, one of them moved', '!\ta:refs/heads/main\t[rejected] (fetch first)\n!\tb:refs/heads/env/dev\t[rejected] (atomic push failed)'],
  ])('%s: fetch and try again', (_, output) => {
    expect(classifyPush(output)).toBe('moved');
  });

  it.each([
    ['a server hook refused', '!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)'],
    ['a protected branch', 'remote: GitLab: You are not allowed to push code to protected branches on this project.\n!\tabc:refs/heads/main\t[remote rejected] (pre-receive hook declined)'],
    ['no access', "remote: Permission to org/repo.git denied to bot.\nfatal: unable to access 'https://github.com/org/repo.git/': The requested URL returned error: 403"],
    ['no network', "fatal: unable to access 'https://git.example.com/r.git/': Could not resolve host: git.example.com"],
  ])('%s: stop', (_, output) => {
    expect(classifyPush(output)).toBe('failed');
  });
});

describe('backoffMs', () => {
  it('grows with each attempt, is capped, and is jittered', () => {
    expect(backoffMs(2, () => 0)).toBe(150);
    expect(backoffMs(3, () => 0)).toBe(300);
    expect(backoffMs(20, () => 0)).toBe(2000);
    expect(backoffMs(2, () => 0.99)).toBe(150 + 148);
  });
});
