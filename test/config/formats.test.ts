import { describe, expect, it } from 'vitest';
import {
  cidr,
  cidrContains,
  cidrUnionSize,
  clientRangesProblem,
  cpuMillis,
  cpuQuantity,
  dnsLabel,
  domainName,
  duration,
  durationMs,
  familiesCoveredWhole,
  hasHostBits,
  isCidr,
  labelKey,
  labels,
  labelValue,
  memoryBytes,
  memoryQuantity,
  networkOf,
  parseCidr,
  port,
  publicAddressCount,
  queueLifetime,
  webUrl,
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
  it.each(['30s', '5m', '1h30m', '500ms', '5d', '1d2h3m4s5ms', '106751d23h47m16s854ms'])('duration accepts %s', (v) => expect(ok(duration, v)).toBe(true));
  // Prometheus' grammar: each unit once, largest first (5m1h and 1s1s are refused by Prometheus too).
  it.each(['', '30', '5 m', '1.5h', 's', '-5m', '5M', '5m1h', '1s1s', '1ms1s', '1w'])('duration refuses %j', (v) =>
    expect(firstMessage(duration, v)).toBe('must be a duration such as 30s, 5m or 1h30m (units d, h, m, s, ms, largest first, each once)'),
  );
  it.each([
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['1d', 86_400_000],
    ['0s', 0],
  ])('durationMs(%s) = %d', (v, ms) => expect(durationMs(v)).toBe(ms));
  it('durationMs refuses what Prometheus refuses', () => expect(durationMs('5m1h')).toBeUndefined());
  it('bounds durations above zero and at what the reader accepts', () => {
    expect(firstMessage(duration, '0s')).toBe('must be longer than 0');
    expect(firstMessage(duration, '106751d23h47m16s855ms')).toBe('must be at most 106751d23h47m16s854ms (the longest duration Prometheus accepts)');
    expect(firstMessage(duration, '99999999999999d')).toBe('must be at most 106751d23h47m16s854ms (the longest duration Prometheus accepts)');
    expect(ok(queueLifetime, '100d')).toBe(true);
    expect(ok(queueLifetime, '99d23h59m59s')).toBe(true);
    expect(firstMessage(queueLifetime, '100d1s')).toBe('must be at most 100d (the longest maximal_queue_lifetime Postfix accepts)');
    expect(firstMessage(queueLifetime, '0d')).toBe('must be longer than 0');
  });
});

describe('CIDRs with host bits', () => {
  it.each([
    ['10.1.2.3/8', '10.0.0.0/8', 'has host bits set: write the network 10.0.0.0/8, or 10.1.2.3/32 for one address'],
    ['192.168.1.1/24', '192.168.1.0/24', 'has host bits set: write the network 192.168.1.0/24, or 192.168.1.1/32 for one address'],
    ['fd00::1/8', 'fd00::/8', 'has host bits set: write the network fd00::/8, or fd00::1/128 for one address'],
    ['2001:db8:0:0:1::/64', '2001:db8::/64', 'has host bits set: write the network 2001:db8::/64, or 2001:db8:0:0:1::/128 for one address'],
  ])('%s is refused, naming %s', (value, network, message) => {
    expect(hasHostBits(value)).toBe(true);
    expect(networkOf(value)).toBe(network);
    expect(firstMessage(cidr, value)).toBe(message);
  });
  it.each(['10.0.0.0/8', '10.1.2.3/32', '0.0.0.0/0', 'fd00::/8', '::1/128', '::ffff:10.0.0.0/104', '2001:db8::/32'])('%s has none', (value) => {
    expect(hasHostBits(value)).toBe(false);
    expect(ok(cidr, value)).toBe(true);
  });
  it('writes IPv6 networks in RFC 5952 form', () => {
    expect(networkOf('2001:0db8:0000:0000:0000:0000:0000:0001/32')).toBe('2001:db8::/32');
    expect(networkOf('::/0')).toBe('::/0');
    expect(networkOf('1:0:0:2:0:0:0:3/128')).toBe('1:0:0:2::3/128');
    expect(networkOf('1:2:3:4:5:6:7:8/128')).toBe('1:2:3:4:5:6:7:8/128');
  });
});

describe('webUrl', () => {
  const runbook = webUrl({ schemes: ['https', 'http'], example: 'https://example.com/docs/RUNBOOK.md' });
  const server = webUrl({ schemes: ['https'], example: 'https://kubernetes.default.svc' });
  it.each(['https://github.com/o/r/blob/main/docs/RUNBOOK.md', 'http://wiki.internal/runbook', 'https://example.com/a?b=c&d=e', 'https://[fd00::1]:8443/x', 'https://example.com/a%20b'])(
    'a runbook URL may be %s',
    (v) => expect(ok(runbook, v)).toBe(true),
  );
  it.each([
    '{{ query "up" | first | value }}',
    'javascript:alert(1)',
    'JAVASCRIPT://%0aalert(1)',
    'data:text/html,<script>x</script>',
    'https:example.com',
    'https://',
    'https://example.com/{{ .Labels.pod }}',
    'https://example.com/a b',
    'https://example.com/"onmouseover',
    'https://user:pass@example.com/',
    'https://example.com/runbook#top',
    'ftp://example.com/runbook',
    '//example.com/runbook',
    'https://example.com/<b>',
  ])('a runbook URL may not be %j', (v) => expect(ok(runbook, v)).toBe(false));
  it('the Argo CD server must be https', () => {
    expect(ok(server, 'https://kubernetes.default.svc')).toBe(true);
    expect(ok(server, 'https://rancher.example.com/k8s/clusters/c-m-abc')).toBe(true);
    expect(firstMessage(server, 'http://kubernetes.default.svc')).toBe(
      'must be an https:// URL such as https://kubernetes.default.svc, with no credentials, #fragment, spaces, quotes, braces or template syntax',
    );
    expect(ok(server, 'in-cluster')).toBe(false);
  });
});

describe('clientRangesProblem: judged by the union of the ranges', () => {
  it('refuses sets that together cover a whole family', () => {
    expect(clientRangesProblem(['0.0.0.0/1', '128.0.0.0/1'])).toBe(
      'these networks together cover every IPv4 address (0.0.0.0/0): anyone could use the relay; list only the networks your clients are in',
    );
    expect(clientRangesProblem(['0.0.0.0/0'])).toMatch(/cover every IPv4 address/);
    expect(clientRangesProblem(['::/1', '8000::/1', '0.0.0.0/0'])).toBe(
      'these networks together cover every IPv4 address (0.0.0.0/0) and every IPv6 address (::/0): anyone could use the relay; list only the networks your clients are in',
    );
  });
  it('counts only public addresses against the limit (one IPv4 /8, one IPv6 /32)', () => {
    expect(publicAddressCount(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'], 4)).toBe(0n);
    expect(publicAddressCount(['8.0.0.0/7'], 4)).toBe(1n << 25n);
    // 0.0.0.0/4 holds 10.0.0.0/8: the private part is not counted.
    expect(publicAddressCount(['0.0.0.0/4'], 4)).toBe((1n << 28n) - (1n << 24n));
    expect(publicAddressCount(['fc00::/7', '2001:db8::/32'], 6)).toBe(1n << 96n);
    expect(clientRangesProblem(['11.0.0.0/8'])).toBeUndefined();
    expect(clientRangesProblem(['11.0.0.0/8', '10.0.0.0/8'])).toBeUndefined();
    expect(clientRangesProblem(['11.0.0.0/8', '12.0.0.0/32'])).toMatch(/together hold 16777217 public IPv4 addresses, more than one \/8 \(16777216\)/);
    expect(clientRangesProblem(['2001:db8::/32'])).toBeUndefined();
    expect(clientRangesProblem(['2001:db8::/31'])).toMatch(/about 2\^97 public IPv6 addresses, more than one \/32 \(2\^96\)/);
  });
  it('accepts the usual cluster networks', () => {
    expect(clientRangesProblem(['10.0.0.0/8'])).toBeUndefined();
    expect(clientRangesProblem(['10.244.0.0/16', '10.96.0.0/12', 'fd00::/8'])).toBeUndefined();
  });
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
