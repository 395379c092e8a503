import { chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { activatePostfixGeneration, capabilitiesForGeneration, isCI, postfixRootStatus, requireTool, tempDir, withPostfixCommandsFirst } from '../integration/harness';

// The harness' choice of Postfix generation (issue 12) and the preparation of the Debian 13 root,
// without building one: the integration-postfix-3.10 project runs the real thing.

// eslint-disable-next-line @typescript-eslint/no-require-imports
const rootScript = require('../../scripts/postfix-root.cjs') as {
  alignIds(root: string, ids: Record<string, number>): void;
  wrapper(name: string, root: string): string;
};

const saved = { ...process.env };
beforeEach(() => vi.spyOn(console, 'warn').mockImplementation(() => undefined));
afterEach(() => {
  process.env = { ...saved };
  vi.restoreAllMocks();
});

describe('CI detection', () => {
  it.each([
    ['true', true],
    ['1', true],
    ['yes', true],
    ['', false],
    ['false', false],
    ['FALSE', false],
    ['0', false],
    [undefined, false],
  ])('CI=%j is %s', (value, expected) => {
    if (value === undefined) delete process.env.CI;
    else process.env.CI = value;
    expect(isCI()).toBe(expected);
  });
});

describe('requireTool on the Postfix 3.10 generation', () => {
  beforeEach(() => {
    process.env.POSTFIX_GENERATION = '3.10';
    // The host's Postfix is on this PATH, the root's wrappers are not.
    process.env.PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
  });

  it('never falls back to the host Postfix: in CI it fails, naming the root and how to get it', () => {
    process.env.CI = 'true';
    expect(() => requireTool('postfix', 'postfix')).toThrow(/Postfix 3\.10 test root is not available for "postfix".*CI makes this a failure.*debootstrap/);
  });

  it('skips loudly outside CI', () => {
    process.env.CI = 'false';
    expect(requireTool('postqueue', 'postfix')).toBe(false);
    expect(console.warn).toHaveBeenCalledWith(expect.stringMatching(/\*\*\* SKIPPING: the Postfix 3\.10 test root is not available for "postqueue"/));
  });

  it('leaves tools other than Postfix\' to the host', () => {
    process.env.CI = 'true';
    expect(requireTool('sh', 'dash')).toBe(true);
  });

  it.skipIf(!postfixRootStatus().ok)('finds the wrappers once the generation is activated', () => {
    process.env.CI = 'true';
    expect(activatePostfixGeneration()).toBe(true);
    expect(process.env.PATH!.split(':')[0]).toBe((postfixRootStatus() as { bin: string }).bin);
    expect(requireTool('postfix', 'postfix')).toBe(true);
    expect(withPostfixCommandsFirst('set -u\nPATH=/usr/sbin:/bin\nexport PATH\n')).toMatch(/^PATH=\/.*\/bin:\/usr\/sbin:\/bin$/m);
  });

  it('keeps the wrappers\' entry capabilities and has the wrappers drop them before Postfix runs', () => {
    expect(capabilitiesForGeneration(['CHOWN', 'SETUID'])).toEqual({
      bounding: ['CHOWN', 'SETUID', 'SYS_ADMIN', 'SYS_CHROOT', 'SETPCAP'],
      env: { POSTFIX_ROOT_DROP_BOUNDING: '-sys_admin,-sys_chroot,-setpcap' },
    });
    expect(capabilitiesForGeneration(['SYS_CHROOT', 'CHOWN']).env).toEqual({ POSTFIX_ROOT_DROP_BOUNDING: '-sys_admin,-setpcap' });
  });
});

describe('on the host generation', () => {
  it('changes nothing', () => {
    delete process.env.POSTFIX_GENERATION;
    const script = 'PATH=/usr/sbin:/bin\n';
    expect(withPostfixCommandsFirst(script)).toBe(script);
    expect(capabilitiesForGeneration(['CHOWN'])).toEqual({ bounding: ['CHOWN'], env: {} });
  });

  it('refuses a generation it does not know', () => {
    process.env.POSTFIX_GENERATION = '3.11';
    expect(() => capabilitiesForGeneration([])).toThrow(/POSTFIX_GENERATION="3\.11" is not a Postfix generation the tests know \(host, 3\.7 or 3\.10\)/);
  });
});

describe('the root gets the host ids of postfix and postdrop', () => {
  it('moves the accounts (swapping with one that held the id), their files, and keeps set-gid', () => {
    const root = tempDir('postfix-root-ids-');
    mkdirSync(join(root, 'etc'));
    mkdirSync(join(root, 'usr', 'sbin'), { recursive: true });
    mkdirSync(join(root, 'spool'));
    writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\npostfix:x:100:101::/var/spool/postfix:/usr/sbin/nologin\nother:x:102:102::/:/bin/false\n');
    writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\npostfix:x:101:\npostdrop:x:102:\nmessagebus:x:106:\n');
    for (const name of ['postdrop', 'postqueue']) {
      writeFileSync(join(root, 'usr', 'sbin', name), '');
      chownSync(join(root, 'usr', 'sbin', name), 0, 102);
      chmodSync(join(root, 'usr', 'sbin', name), 0o2555);
    }
    chownSync(join(root, 'spool'), 100, 101);
    writeFileSync(join(root, 'bus'), '');
    chownSync(join(root, 'bus'), 0, 106);

    // Host: postfix uid 102 (the root's "other"), group postfix 105, postdrop 106 (the root's messagebus).
    rootScript.alignIds(root, { 'passwd:postfix': 102, 'group:postfix': 105, 'group:postdrop': 106 });

    const passwd = readFileSync(join(root, 'etc', 'passwd'), 'utf8');
    expect(passwd).toContain('postfix:x:102:105:');
    expect(passwd).toContain('other:x:100:106:'); // the uid it gave up; its primary group (postdrop) moved to 106
    const group = readFileSync(join(root, 'etc', 'group'), 'utf8');
    expect(group).toContain('postfix:x:105:');
    expect(group).toContain('postdrop:x:106:');
    expect(group).toContain('messagebus:x:102:');
    expect(lstatSync(join(root, 'spool'))).toMatchObject({ uid: 102, gid: 105 });
    expect(lstatSync(join(root, 'bus')).gid).toBe(102);
    for (const name of ['postdrop', 'postqueue']) {
      const st = lstatSync(join(root, 'usr', 'sbin', name));
      expect(st.gid).toBe(106);
      expect(st.mode & 0o7777).toBe(0o2555);
    }
  });
});

describe('the wrappers', () => {
  const text = rootScript.wrapper('postqueue', '/cache/root');
  it('run the root\'s command in a private mount namespace, never forking', () => {
    expect(text).toMatch(/^exec unshare --mount --propagation private \/bin\/sh -c '/m);
    expect(text).toContain('exec chroot "$root" /usr/sbin/postqueue "$@"');
    expect(text).toContain('mount --bind /tmp "$root/tmp"');
    expect(text).toMatch(/' sh '\/cache\/root' "\$@"\n$/);
  });
  it('bind-mount $TMPDIR too when it lies outside /tmp', () => {
    expect(text).toContain('mount --bind "$TMPDIR" "$root$TMPDIR"');
  });
});
