import { describe, expect, it } from 'vitest';
import {
  cidr,
  cidrContains,
  cidrUnionSize,
  cpuMillis,
  cpuQuantity,
  dnsLabel,
  domainName,
  duration,
  familiesCoveredWhole,
  isCidr,
  labelKey,
  labels,
  labelValue,
  memoryBytes,
  memoryQuantity,
  parseCidr,
  port,
} from '../../src/config/formats';

const ok = (schema: { safeParse(v: unknown): { success: boolean } }, v: unknown) => schema.safeParse(v).success;
const firstMessage = (schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } }, v: unknown) =>
  schema.safeParse(v).error?.issues[0]?.message;

describe('isCidr / cidr', () => {
  it.each(['10.0.0.0/8', '0.0.0.0/0', '192.168.1.7/32', 'fd00::/8', '::1/128', '::ffff:10.0.0.0/104'])('accepts %s', (v) => {
    expect(isCidr(v)).toBe(true);
    expect(ok(cidr, v)).toBe(true);
  });
  it.each(['10.0.0.0', '10.0.0.0/33', 'fd00::/129', '10.0.0/8', '10.0.0.0/8/8', '10.0.0.0/-1', '10.0.0.0/', 'example.com/8', '', '256.0.0.0/8', '10.0.0.0/ 8'])(
    'refuses %j',
    (v) => {
      expect(isCidr(v)).toBe(false);
      expect(firstMessage(cidr, v)).toBe('must be a CIDR such as 10.0.0.0/8 or fd00::/8');
    },
  );
});

describe('parseCidr / cidrContains', () => {
  it('masks host bits', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ family: 4, network: 10n << 24n, prefix: 8 });
    expect(parseCidr('0.0.0.0/0').network).toBe(0n);
    expect(parseCidr('fd00::1/8')).toEqual({ family: 6, network: 0xfdn << 120n, prefix: 8 });
  });
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8', true],
    ['10.0.0.0/8', '10.244.0.0/16', true],
    ['10.0.0.0/8', '10.1.2.3/32', true],
    ['10.0.0.0/16', '10.0.0.0/8', false],
    ['10.0.0.0/8', '11.0.0.0/8', false],
    ['10.0.0.0/8', '0.0.0.0/0', false],
    ['0.0.0.0/0', '192.168.0.0/16', true],
    ['fd00::/8', 'fd12:3456::/32', true],
    ['fd00::/8', 'fe80::/10', false],
    ['10.0.0.0/8', 'fd00::/8', false],
    ['::/0', '10.0.0.0/8', false],
    ['::ffff:0.0.0.0/96', '::ffff:10.0.0.0/104', true],
  ])('%s contains %s: %s', (outer, inner, expected) => {
    expect(cidrContains(outer, inner)).toBe(expected);
  });
});

describe('quantities', () => {
  it.each([
    ['100m', 100],
    ['1', 1000],
    ['0.5', 500],
    ['2.25', 2250],
  ])('cpuMillis(%s) = %d', (q, m) => expect(cpuMillis(q)).toBe(m));
  it.each([
    ['128Mi', 128 * 1024 ** 2],
    ['1Gi', 1024 ** 3],
    ['1.5Gi', 1.5 * 1024 ** 3],
    ['500M', 500e6],
    ['64k', 64e3],
    ['1024', 1024],
  ])('memoryBytes(%s) = %d', (q, b) => expect(memoryBytes(q)).toBe(b));
  it('memoryBytes refuses what is not a quantity', () => {
    expect(() => memoryBytes('lots')).toThrow('not a memory quantity: lots');
  });
  it.each(['100m', '1', '0.5', '2000m'])('cpuQuantity accepts %s', (v) => expect(ok(cpuQuantity, v)).toBe(true));
  it.each(['100M', '0m', '-1', '1.', 'one', '100 m', ''])('cpuQuantity refuses %j', (v) =>
    expect(firstMessage(cpuQuantity, v)).toBe('must be a CPU quantity such as 100m or 0.5'),
  );
  it.each(['128Mi', '1Gi', '512M', '1024', '1.5Gi'])('memoryQuantity accepts %s', (v) => expect(ok(memoryQuantity, v)).toBe(true));
  it.each(['128MB', '1gi', '128 Mi', 'Mi', '-1Mi', ''])('memoryQuantity refuses %j', (v) =>
    expect(firstMessage(memoryQuantity, v)).toBe('must be a memory quantity such as 128Mi or 1Gi'),
  );
  it('refuses numbers where a quantity string is expected', () => {
    expect(ok(cpuQuantity, 1)).toBe(false);
    expect(ok(memoryQuantity, 1024)).toBe(false);
  });
});

describe('names', () => {
  it.each(['email-server-prod', 'a', 'x1', 'a'.repeat(63)])('dnsLabel accepts %s', (v) => expect(ok(dnsLabel, v)).toBe(true));
  it.each(['Email', '-a', 'a-', 'a_b', 'a.b', '', 'a'.repeat(64)])('dnsLabel refuses %j', (v) => expect(ok(dnsLabel, v)).toBe(false));

  it('domainName lower-cases before it checks', () => {
    expect(domainName.parse('Mail.Example.COM')).toBe('mail.example.com');
  });
  it.each(['example.com', 'smtp-relay.gmail.com', 'a.b.c.d.example.org'])('domainName accepts %s', (v) => expect(ok(domainName, v)).toBe(true));
  it.each(['localhost', 'example', '-a.example.com', 'a..example.com', 'example.com.', '10.0.0.1', '[10.0.0.1]', 'exa mple.com', `${'a'.repeat(64)}.com`, ''])(
    'domainName refuses %j',
    (v) => expect(firstMessage(domainName, v)).toBe('must be a fully qualified domain name such as example.com'),
  );

  it.each(['app', 'app.kubernetes.io/name', 'email-server.kubernetes.io/smtp-access', 'A_b.c'])('labelKey accepts %s', (v) => expect(ok(labelKey, v)).toBe(true));
  it.each(['', '/name', 'Example.com/name', 'a/b/c', '-app', 'app-', `${'a'.repeat(64)}`])('labelKey refuses %j', (v) => expect(ok(labelKey, v)).toBe(false));
  it.each(['', 'true', 'kube-prometheus-stack', 'v1.2_3'])('labelValue accepts %j', (v) => expect(ok(labelValue, v)).toBe(true));
  it.each(['-x', 'x-', 'a b', 'a/b', 'a'.repeat(64)])('labelValue refuses %j', (v) => expect(ok(labelValue, v)).toBe(false));
  it('labels checks keys and values', () => {
    expect(ok(labels, { release: 'kube-prometheus-stack' })).toBe(true);
    expect(ok(labels, { 'Bad Key': 'x' })).toBe(false);
    expect(ok(labels, { release: 'bad value' })).toBe(false);
    expect(ok(labels, { release: 1 })).toBe(false);
  });
});

describe('port and duration', () => {
  it.each([1, 25, 587, 65535])('port accepts %d', (v) => expect(ok(port, v)).toBe(true));
  it.each([0, -1, 65536, 25.5])('port refuses %d', (v) => expect(ok(port, v)).toBe(false));
  it('port says what is allowed at both ends', () => {
    expect(firstMessage(port, 0)).toBe('must be a port from 1 to 65535');
    expect(firstMessage(port, 70000)).toBe('must be a port from 1 to 65535');
  });
  it('port refuses a numeric string', () => expect(ok(port, '25')).toBe(false));
  it.each(['30s', '5m', '1h30m', '500ms', '5d'])('duration accepts %s', (v) => expect(ok(duration, v)).toBe(true));
  it.each(['', '30', '5 m', '1.5h', 's', '-5m', '5M'])('duration refuses %j', (v) =>
    expect(firstMessage(duration, v)).toBe('must be a duration such as 30s, 5m or 1h'),
  );
});

describe('cidrUnionSize / familiesCoveredWhole', () => {
  it('counts overlapping and adjacent ranges once, per family', () => {
    expect(cidrUnionSize(['10.0.0.0/8'], 4)).toBe(1n << 24n);
    expect(cidrUnionSize(['10.0.0.0/8', '10.1.0.0/16', '10.0.0.0/8'], 4)).toBe(1n << 24n);
    expect(cidrUnionSize(['10.0.0.0/9', '10.128.0.0/9'], 4)).toBe(1n << 24n);
    expect(cidrUnionSize(['10.0.0.0/8', '192.168.0.0/16', 'fd00::/8'], 4)).toBe((1n << 24n) + (1n << 16n));
    expect(cidrUnionSize(['fd00::/8'], 6)).toBe(1n << 120n);
    expect(cidrUnionSize(['not a cidr'], 4)).toBe(0n);
  });

  it('tells when ranges together cover a whole address space', () => {
    expect(familiesCoveredWhole(['0.0.0.0/1', '128.0.0.0/1'])).toEqual([4]);
    expect(familiesCoveredWhole(['0.0.0.0/0'])).toEqual([4]);
    expect(familiesCoveredWhole(['::/1', '8000::/1', '10.0.0.0/8'])).toEqual([6]);
    expect(familiesCoveredWhole(['0.0.0.0/1', '128.0.0.0/2', '192.0.0.0/3', '224.0.0.0/4', '240.0.0.0/4'])).toEqual([4]);
    expect(familiesCoveredWhole(['0.0.0.0/1', '128.0.0.0/2', '192.0.0.0/3', '224.0.0.0/4', '240.0.0.0/5'])).toEqual([]);
    expect(familiesCoveredWhole(['10.0.0.0/8', 'fc00::/7'])).toEqual([]);
  });
});
