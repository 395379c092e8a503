import { isIP } from 'node:net';
import { z } from 'zod';

/** Reusable field types with the constraints Kubernetes and Postfix put on them. */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CPU = /^([1-9][0-9]*m|[0-9]+(\.[0-9]+)?)$/;
const MEMORY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
// Prometheus' own grammar (model.ParseDuration): units largest first, each at most once.
const DURATION = /^(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const dnsLabel = z
  .string()
  .max(63)
  .regex(DNS_LABEL, { message: 'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit' });

export const domainName = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.string().regex(DOMAIN, { message: 'must be a fully qualified domain name such as example.com' }));

export const port = z.number().int().min(1, { message: 'must be a port from 1 to 65535' }).max(65535, { message: 'must be a port from 1 to 65535' });

export const cpuQuantity = z.string().regex(CPU, { message: 'must be a CPU quantity such as 100m or 0.5' });
export const memoryQuantity = z.string().regex(MEMORY, { message: 'must be a memory quantity such as 128Mi or 1Gi' });
export const storageQuantity = memoryQuantity;

const DURATION_NONEMPTY = /^(?=.)([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$/;
const DURATION_SYNTAX = 'must be a duration such as 30s, 5m or 1h30m (units d, h, m, s, ms, largest first, each once)';
const DURATION_UNITS_MS = [86_400_000, 3_600_000, 60_000, 1000, 1];

/** A duration in Prometheus' notation in milliseconds, or undefined when it is not one. */
export function durationMs(value: string): number | undefined {
  const m = value === '' ? null : DURATION.exec(value);
  if (!m) return undefined;
  return DURATION_UNITS_MS.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
}

/** Prometheus keeps durations as int64 nanoseconds: 106751d23h47m16s854ms is the longest it parses. */
export const PROMETHEUS_MAX_DURATION_MS = 9_223_372_036_854;

/**
 * A duration in Prometheus' notation (30s, 5m, 1h30m), above zero and at most `maxMs`: every
 * duration field is bounded by what the program that reads it accepts (`bound` says which).
 */
export function boundedDuration(maxMs: number, maxText: string, bound: string) {
  return z
    .string()
    .regex(DURATION_NONEMPTY, { message: DURATION_SYNTAX })
    .superRefine((value, ctx) => {
      const ms = durationMs(value);
      if (ms === 0) ctx.addIssue({ code: 'custom', message: 'must be longer than 0', input: value });
      else if (ms !== undefined && ms > maxMs) ctx.addIssue({ code: 'custom', message: `must be at most ${maxText} (${bound})`, input: value });
    });
}

/** A duration read by Prometheus (scrape intervals, alert `for`). */
export const duration = boundedDuration(PROMETHEUS_MAX_DURATION_MS, '106751d23h47m16s854ms', 'the longest duration Prometheus accepts');

/** Postfix' limit on maximal_queue_lifetime and bounce_queue_lifetime (qmgr: 0..8640000 s). */
export const POSTFIX_MAX_QUEUE_LIFETIME_MS = 100 * 86_400_000;

/** A duration written to main.cf as a queue lifetime. */
export const queueLifetime = boundedDuration(POSTFIX_MAX_QUEUE_LIFETIME_MS, '100d', 'the longest maximal_queue_lifetime Postfix accepts');

export const labelKey = z.string().max(253).regex(LABEL_KEY, { message: 'must be a Kubernetes label key such as example.com/name' });
export const labelValue = z.string().max(63).regex(LABEL_VALUE, { message: 'must be a Kubernetes label value (63 characters of letters, digits, "-", "_", ".")' });
export const labels = z.record(labelKey, labelValue);

/**
 * A network in CIDR notation. A network with host bits set (`10.1.2.3/8`) is refused, never
 * normalised: it is ambiguous (a network or one address?), and Postfix and Kubernetes read it
 * differently. The message names both readings.
 */
export const cidr = z.string().superRefine((value, ctx) => {
  if (!isCidr(value)) {
    ctx.addIssue({ code: 'custom', message: 'must be a CIDR such as 10.0.0.0/8 or fd00::/8', input: value });
    return;
  }
  if (hasHostBits(value)) {
    const single = `${value.split('/')[0]}/${value.includes(':') ? 128 : 32}`;
    ctx.addIssue({ code: 'custom', message: `has host bits set: write the network ${networkOf(value)}, or ${single} for one address`, input: value });
  }
});

export function isCidr(value: string): boolean {
  const [address, prefix, ...rest] = value.split('/');
  if (rest.length > 0 || address === undefined || prefix === undefined || !/^[0-9]{1,3}$/.test(prefix)) return false;
  const family = isIP(address);
  const bits = Number(prefix);
  return (family === 4 && bits <= 32) || (family === 6 && bits <= 128);
}

/** Parses a CPU quantity into millicores. */
export function cpuMillis(quantity: string): number {
  return quantity.endsWith('m') ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

const MEMORY_FACTORS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Parses a memory quantity into bytes. */
export function memoryBytes(quantity: string): number {
  const match = /^([0-9.]+)([A-Za-z]*)$/.exec(quantity);
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  return Number(match[1]) * (MEMORY_FACTORS[match[2] ?? ''] ?? NaN);
}

/** Parses an IPv4 or IPv6 CIDR into [family, network as bigint, prefix length]. */
export function parseCidr(value: string): { family: 4 | 6; network: bigint; prefix: number } {
  const [address = '', prefix = ''] = value.split('/');
  const family = isIP(address) as 4 | 6;
  const bits = family === 4 ? 32 : 128;
  const raw = family === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const length = Number(prefix);
  const mask = length === 0 ? 0n : ((1n << BigInt(length)) - 1n) << BigInt(bits - length);
  return { family, network: raw & mask, prefix: length };
}

/** The network of a CIDR with its host bits cleared, in canonical notation (`10.1.2.3/8` -> `10.0.0.0/8`). */
export function networkOf(value: string): string {
  const { family, network, prefix } = parseCidr(value);
  return `${family === 4 ? bigIntToIpv4(network) : bigIntToIpv6(network)}/${prefix}`;
}

/** True when the address part of a CIDR has bits set beyond its prefix (`10.1.2.3/8`). */
export function hasHostBits(value: string): boolean {
  const [address = ''] = value.split('/');
  const raw = isIP(address) === 4 ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  return raw !== parseCidr(value).network;
}

function bigIntToIpv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 0xffn)).join('.');
}

function bigIntToIpv6(n: bigint): string {
  const groups = [112n, 96n, 80n, 64n, 48n, 32n, 16n, 0n].map((shift) => ((n >> shift) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes "::".
  let best = [-1, 0];
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best[1]! && j - i >= 2) best = [i, j - i];
    i = j;
  }
  if (best[0]! < 0) return groups.join(':');
  return `${groups.slice(0, best[0]).join(':')}::${groups.slice(best[0]! + best[1]!).join(':')}`;
}

/** True when every address of `inner` lies inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (o.family !== i.family || i.prefix < o.prefix) return false;
  const bits = o.family === 4 ? 32 : 128;
  const mask = o.prefix === 0 ? 0n : ((1n << BigInt(o.prefix)) - 1n) << BigInt(bits - o.prefix);
  return (i.network & mask) === o.network;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) + BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const n = ipv4ToBigInt(v4[1]);
    text = text.replace(v4[1], `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`);
  }
  const [head = '', tail] = text.split('::');
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - headParts.length - tailParts.length).fill('0');
  return [...headParts, ...fill, ...tailParts].reduce((acc, part) => (acc << 16n) + BigInt(parseInt(part || '0', 16)), 0n);
}

/**
 * How many addresses of one family the union of `cidrs` holds (overlaps counted once). Ranges
 * of the other family are ignored. Used to refuse sets of client ranges that together cover
 * the whole address space (`0.0.0.0/1` + `128.0.0.0/1` is `0.0.0.0/0`).
 */
export function cidrUnionSize(cidrs: readonly string[], family: 4 | 6): bigint {
  const bits = family === 4 ? 32n : 128n;
  const ranges = cidrs
    .filter(isCidr)
    .map(parseCidr)
    .filter((c) => c.family === family)
    .map((c) => [c.network, c.network + (1n << (bits - BigInt(c.prefix)))] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let total = 0n;
  let end = -1n;
  for (const [start, stop] of ranges) {
    if (stop <= end) continue;
    total += stop - (start > end ? start : end);
    end = stop;
  }
  return total;
}

/** The address families (4, 6) whose whole space the union of `cidrs` covers. */
export function familiesCoveredWhole(cidrs: readonly string[]): Array<4 | 6> {
  return ([4, 6] as const).filter((f) => cidrUnionSize(cidrs, f) === 1n << (f === 4 ? 32n : 128n));
}

/**
 * An absolute web URL: one of `schemes`, a host, no credentials, no `#fragment` (callers append
 * their own anchors), and only URL characters of RFC 3986 without "#" and "$" (refused in every
 * field), so spaces, quotes, "<>", "{}" (Go templates, which Prometheus evaluates in alert
 * annotations), "|", "\\" and "^" never reach a manifest.
 */
export function webUrl(options: { readonly schemes: readonly ('https' | 'http')[]; readonly example: string }) {
  const schemes = options.schemes.map((s) => `${s}://`).join(' or ');
  const message = `must be an ${schemes} URL such as ${options.example}, with no credentials, #fragment, spaces, quotes, braces or template syntax`;
  // The pattern (also in the JSON Schema for editors) fixes scheme and characters; the parse, host and credentials.
  const pattern = new RegExp(`^(${options.schemes.join('|')})://[A-Za-z0-9\\-._~:/?[\\]@!&'()*+,;=%]+$`);
  return z
    .string()
    .regex(pattern, { message })
    .superRefine((value, ctx) => {
      if (!pattern.test(value)) return;
      let url: URL | undefined;
      try {
        url = new URL(value);
      } catch {
        url = undefined;
      }
      if (!url || url.hostname === '' || url.username !== '' || url.password !== '') ctx.addIssue({ code: 'custom', message, input: value });
    });
}

/** RFC 1918, shared address space (RFC 6598) and IPv6 unique local addresses. */
export const PRIVATE_NETWORKS: readonly string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7'];

/**
 * The most public (non-private) addresses a list of client ranges may hold, per family: one
 * IPv4 /8 (16,777,216 addresses) and one IPv6 /32 (a regional registry's usual allocation to a
 * provider). A cluster whose pods really use public addresses fits well inside; anything larger
 * lets a good part of the internet relay through us.
 */
export const MAX_PUBLIC_CLIENT_PREFIX = { 4: 8, 6: 32 } as const;

/** The addresses of `cidrs` (one family) that lie outside PRIVATE_NETWORKS, overlaps counted once. */
export function publicAddressCount(cidrs: readonly string[], family: 4 | 6): bigint {
  const valid = cidrs.filter(isCidr);
  const privatePart = valid.flatMap((c) =>
    PRIVATE_NETWORKS.flatMap((p) => (cidrContains(p, c) ? [c] : cidrContains(c, p) ? [p] : [])),
  );
  return cidrUnionSize(valid, family) - cidrUnionSize(privatePart, family);
}

/**
 * Why a list of client ranges (anything that reaches mynetworks, a NetworkPolicy or a
 * LoadBalancer's source ranges) is too wide, or undefined when it is not. Looks at the union, so
 * `0.0.0.0/1` + `128.0.0.0/1` counts as `0.0.0.0/0`. Shared by every such list.
 */
export function clientRangesProblem(cidrs: readonly string[]): string | undefined {
  const whole = familiesCoveredWhole(cidrs);
  if (whole.length) {
    const spaces = whole.map((f) => (f === 4 ? 'IPv4 address (0.0.0.0/0)' : 'IPv6 address (::/0)')).join(' and every ');
    return `these networks together cover every ${spaces}: anyone could use the relay; list only the networks your clients are in`;
  }
  for (const family of [4, 6] as const) {
    const prefix = MAX_PUBLIC_CLIENT_PREFIX[family];
    const limit = 1n << BigInt((family === 4 ? 32 : 128) - prefix);
    const count = publicAddressCount(cidrs, family);
    if (count > limit) {
      const size = (n: bigint) => (family === 4 ? String(n) : `2^${n.toString(2).length - 1}`);
      return `these networks together hold ${family === 6 ? 'about ' : ''}${size(count)} public IPv${family} addresses, more than one /${prefix} (${size(limit)}): list only the networks your clients are in`;
    }
  }
  return undefined;
}
