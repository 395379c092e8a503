import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { DIR_MODE, FILE_MODE, gzipDeterministic, normaliseEntries, reproducibleTarball, tarBytes } from '../../src/delivery/tarball';

const tree = new Map([
  ['staging/service.yaml', 'kind: Service\n'],
  ['dev/a.yaml', 'kind: ConfigMap\n'],
  ['helm/email-server-dev/templates/x.yaml', 'x: 1\n'],
  ['dev-eu/a.yaml', 'kind: ConfigMap\n'],
]);
const when = new Date('2026-01-28T12:34:56.789Z');

/** Every entry's header as tar's own parser reads it. */
function entries(archive: Buffer): ReadEntry['header'][] {
  const out: ReadEntry['header'][] = [];
  const p = new Parser({ onReadEntry: (e) => (out.push(e.header), e.resume()) });
  p.end(gunzipSync(archive));
  return out;
}

describe('normaliseEntries', () => {
  it('lists each folder before what it holds, sorted by the bytes of the path, with fixed modes', () => {
    expect(normaliseEntries(tree).map((e) => `${e.path} ${e.mode.toString(8)}`)).toEqual([
      'dev-eu/ 755',
      'dev-eu/a.yaml 644',
      'dev/ 755',
      'dev/a.yaml 644',
      'helm/ 755',
      'helm/email-server-dev/ 755',
      'helm/email-server-dev/templates/ 755',
      'helm/email-server-dev/templates/x.yaml 644',
      'staging/ 755',
      'staging/service.yaml 644',
    ]);
  });

  it('does not depend on the order it is given', () => {
    expect(normaliseEntries(new Map([...tree].reverse()))).toEqual(normaliseEntries(tree));
  });

  it.each(['/etc/passwd', '../x', 'a/../../x', 'a//b', './a'])('refuses the path %s', (path) => {
    expect(() => normaliseEntries(new Map([[path, 'x']]))).toThrow(/refusing to archive the path/);
  });
});

describe('the archive', () => {
  it('headers: owner and group 0 with no names, the given time in whole seconds, ustar', () => {
    const headers = entries(reproducibleTarball(tree, when));
    expect(headers.map((h) => h.path)).toEqual(normaliseEntries(tree).map((e) => e.path));
    for (const h of headers) {
      expect(h.uid).toBe(0);
      expect(h.gid).toBe(0);
      expect(h.uname ?? '').toBe('');
      expect(h.gname ?? '').toBe('');
      expect(h.mtime!.toISOString()).toBe('2026-01-28T12:34:56.000Z');
      expect(h.mode).toBe(h.type === 'Directory' ? DIR_MODE : FILE_MODE);
    }
  });

  it('the same bytes from the same tree, whatever the order; other bytes for another time', () => {
    const a = reproducibleTarball(tree, when);
    expect(reproducibleTarball(new Map([...tree].reverse()), new Date(when.getTime() + 200))).toEqual(a);
    expect(reproducibleTarball(tree, new Date(when.getTime() + 1000)).equals(a)).toBe(false);
  });

  it('gzip header: no name, time 0, OS byte 3', () => {
    const gz = gzipDeterministic(Buffer.from('x'));
    expect(gz.subarray(0, 4)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0]));
    expect(gz.readUInt32LE(4)).toBe(0);
    expect(gz[9]).toBe(3);
  });

  it('a path too long for ustar gets a pax header with the whole path', () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}.yaml`;
    const headers = entries(gzipDeterministic(tarBytes(normaliseEntries(new Map([[long, 'x\n']])), when)));
    expect(headers.map((h) => h.path)).toContain(long);
  });

  const dir = mkdtempSync(join(tmpdir(), 'tarball-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('GNU tar lists it as root-owned, 0644/0755, at the given time, and extracts the same contents', () => {
    const file = join(dir, 'a.tar.gz');
    writeFileSync(file, reproducibleTarball(tree, when));
    const listing = execFileSync('tar', ['--numeric-owner', '--utc', '-tvzf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listing[0]).toMatch(/^drwxr-xr-x 0\/0\s+0 2026-01-28 12:34 dev-eu\/$/);
    expect(listing[1]).toMatch(/^-rw-r--r-- 0\/0\s+16 2026-01-28 12:34 dev-eu\/a\.yaml$/);
    execFileSync('tar', ['-xzf', file, '-C', dir]);
    expect(execFileSync('cat', [join(dir, 'staging/service.yaml')], { encoding: 'utf8' })).toBe('kind: Service\n');
  });
});
