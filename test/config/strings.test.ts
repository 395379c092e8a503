import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnvironment } from '../../src/config/load';
import { environmentSchema } from '../../src/config/schema';
import { describeCharacter, POSTFIX_REFERENCE_FIELDS, stringProblem } from '../../src/config/strings';
import { BASE } from './catalogue.cases';
import { reportedPath, setLeaf, stringLeaves, type StringLeaf } from './schema-leaves';

/**
 * Every string of the schema, found by walking it, refuses control characters and "$": the
 * check is central (src/config/strings.ts), so a field added later is covered without a change
 * here, and this test finds that field too.
 */

const leaves = stringLeaves(environmentSchema);

/**
 * Objects on a leaf's path whose other required fields are not strings (an enum, a number):
 * left out, they stop zod before the string check runs. Filled with valid values here, so the
 * leaf's own string is what gets refused. Keyed by the object's path in the walk's notation.
 */
const NODE_TERM = 'scheduling.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms.0';
const PREFERRED = 'scheduling.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution.0';
const SIBLINGS: Readonly<Record<string, Record<string, unknown>>> = {
  [`${NODE_TERM}.matchExpressions.0`]: { key: 'pool', operator: 'In', values: ['smtp'] },
  [`${NODE_TERM}.matchFields.0`]: { key: 'metadata.name', operator: 'In', values: ['node-1'] },
  [PREFERRED]: { weight: 1 },
  [`${PREFERRED}.preference.matchExpressions.0`]: { key: 'pool', operator: 'In', values: ['smtp'] },
  [`${PREFERRED}.preference.matchFields.0`]: { key: 'metadata.name', operator: 'In', values: ['node-1'] },
};

/**
 * BASE plus the required fields of optional objects and list items (relay.auth needs its
 * secretName, a rewrite rule both ends): a leaf set inside them must be the only thing wrong, or
 * the missing sibling stops the schema before the string check runs.
 */
function leafBase(): Record<string, unknown> {
  const data = structuredClone(BASE) as Record<string, unknown>;
  data.relay = { auth: { secretName: 'relay-credentials' } };
  data.mail = { ...(data.mail as object), rewrite: { senders: [{ from: '@example.com', to: 'relay@example.com' }] } };
  return data;
}

/** BASE with the valid siblings of every object on the leaf's path. */
function baseFor(leaf: StringLeaf): Record<string, unknown> {
  const data = leafBase();
  const name = leaf.path.join('.');
  for (const [prefix, siblings] of Object.entries(SIBLINGS)) {
    if (!name.startsWith(`${prefix}.`)) continue;
    for (const [field, value] of Object.entries(siblings)) {
      setLeaf(data, { path: [...prefix.split('.').map((p) => (/^[0-9]+$/.test(p) ? Number(p) : p)), field], isMapKey: false }, value as string, 'team');
    }
  }
  return data;
}

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
      const data = baseFor(leaf);
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
      const data = baseFor(leaf);
      const bad = leaf.isMapKey ? 'team$mydomain' : '/etc/$mydomain';
      setLeaf(data, leaf, bad, leaf.isMapKey ? bad : 'team');
      const problems = problemsFor(data);
      if (leaf.isMapKey) {
        expect(problems, JSON.stringify(problems)).toContainEqual({ path: reportedPath(leaf, bad), message: expect.stringMatching(/^(its key must not contain|the key must be)/) });
        return;
      }
      if (POSTFIX_REFERENCE_FIELDS.has(name)) {
        // Declared as a place for Postfix $name references (raw main.cf values): "$" is accepted.
        expect(problems.filter((p) => p.message.includes('"$"')), JSON.stringify(problems)).toEqual([]);
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
    expect(problemsFor(leafBase())).toEqual([]);
  });
});
