import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnvironment } from '../../src/config/load';
import { environmentSchema } from '../../src/config/schema';
import { describeCharacter, stringProblem } from '../../src/config/strings';
import { BASE } from './catalogue.cases';
import { reportedPath, setLeaf, stringLeaves } from './schema-leaves';

/**
 * Every string of the schema, found by walking it, refuses control characters and "$": the
 * check is central (src/config/strings.ts), so a field added later is covered without a change
 * here, and this test finds that field too.
 */

const leaves = stringLeaves(environmentSchema);

function problemsFor(data: Record<string, unknown>): { path: string; message: string }[] {
  try {
    parseEnvironment(data, 'environments/bad.yaml');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.problems.map((p) => ({ path: p.path, message: p.message }));
  }
  return [];
}

describe('the walk finds the string fields', () => {
  it('finds the free-text, path, URL, name and map-key strings (at least these)', () => {
    const paths = leaves.map((l) => l.path.join('.'));
    for (const known of [
      'namespace',
      'image.repository',
      'image.tag',
      'relay.caFile',
      'relay.host',
      'mail.hostname',
      'mail.allowedSenderDomains.0',
      'network.mynetworks.0',
      'queue.persistence.storageClassName',
      'queue.maximalQueueLifetime',
      'serviceMonitor.labels.key',
      'serviceMonitor.labels.*',
      'alerts.runbookBaseUrl',
      'argocd.repoURL',
      'argocd.path',
      'argocd.destinationServer',
    ]) {
      expect(paths).toContain(known);
    }
    expect(leaves.length).toBeGreaterThan(30);
  });
});

// NUL, TAB, LF, CR, ESC, DEL, NEL, LS, PS, a bidirectional override, a zero-width space, a BOM.
const CONTROLS = ['\u0000', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\u202e', '\u200b', '\ufeff'];

describe('every string field refuses control and invisible characters', () => {
  for (const leaf of leaves) {
    const name = leaf.path.join('.');
    it(`${name}: NEL (U+0085) is refused and named`, () => {
      const data = structuredClone(BASE) as Record<string, unknown>;
      const bad = leaf.isMapKey ? 'team\u0085x' : '/x\u0085mynetworks=0.0.0.0/0';
      setLeaf(data, leaf, bad, leaf.isMapKey ? bad : 'team');
      const problems = problemsFor(data);
      if (leaf.isMapKey) {
        // Keys are checked by their own schema first (a refused key stops the object's checks):
        // refused, at an escaped path, with a message that says what a key may be.
        expect(problems, JSON.stringify(problems)).toContainEqual({ path: reportedPath(leaf, 'team\\u0085x'), message: expect.stringMatching(/^(its key must not contain|the key must be)/) });
        return;
      }
      expect(problems, JSON.stringify(problems)).toContainEqual({
        path: reportedPath(leaf, 'team'),
        message: 'must not contain control or invisible characters: U+0085 (NEL) at character 3',
      });
    });
  }

  it.each(CONTROLS.map((c) => [describeCharacter(c), c]))('%s is refused (relay.caFile)', (_, ch) => {
    const data = structuredClone(BASE) as Record<string, unknown>;
    data.relay = { caFile: `/etc/ssl/ca${ch}.pem` };
    expect(problemsFor(data)).toContainEqual({
      path: 'relay.caFile',
      message: `must not contain control or invisible characters: ${describeCharacter(ch)} at character 12`,
    });
  });

  it('the message shows the value with the character escaped, on one line', () => {
    const data = structuredClone(BASE) as Record<string, unknown>;
    data.relay = { caFile: '/x\u0085mynetworks=0.0.0.0/0' };
    let message = '';
    try {
      parseEnvironment(data, 'environments/bad.yaml');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(
      'environments/bad.yaml: relay.caFile: must not contain control or invisible characters: U+0085 (NEL) at character 3 (got "/x\\u0085mynetworks=0.0.0.0/0")',
    );
    expect(message).not.toMatch(/[\u0085\u2028\u2029\n]/);
  });

  it('counts characters, not UTF-16 units, in the position', () => {
    expect(stringProblem('😀\u2028')).toBe('must not contain control or invisible characters: U+2028 (LINE SEPARATOR) at character 2');
  });

  it('printable Unicode is fine (no false positives)', () => {
    expect(stringProblem('/etc/ssl/certs/ca-certificates.crt')).toBeUndefined();
    expect(stringProblem('Zürich-Ωmega—ok')).toBeUndefined();
    expect(stringProblem(' ')).toBeUndefined();
  });
});

describe('every string field refuses "$" (Postfix and Prometheus templates expand it)', () => {
  for (const leaf of leaves) {
    const name = leaf.path.join('.');
    it(`${name}: "$mydomain" is refused`, () => {
      const data = structuredClone(BASE) as Record<string, unknown>;
      const bad = leaf.isMapKey ? 'team$mydomain' : '/etc/$mydomain';
      setLeaf(data, leaf, bad, leaf.isMapKey ? bad : 'team');
      const problems = problemsFor(data);
      if (leaf.isMapKey) {
        expect(problems, JSON.stringify(problems)).toContainEqual({ path: reportedPath(leaf, bad), message: expect.stringMatching(/^(its key must not contain|the key must be)/) });
        return;
      }
      expect(problems, JSON.stringify(problems)).toContainEqual({
        path: reportedPath(leaf, 'team'),
        message: 'must not contain "$": Postfix (main.cf) and Prometheus (alert templates) expand $name, so the value would not mean what it says',
      });
    });
  }

  it('the shipped defaults hold no "$" and no control character', () => {
    expect(problemsFor(structuredClone(BASE) as Record<string, unknown>)).toEqual([]);
  });
});
