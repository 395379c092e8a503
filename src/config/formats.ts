import { isIP } from 'node:net';
import { z } from 'zod';

/** Reusable field types with the constraints Kubernetes and Postfix put on them. */

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const CPU = /^([1-9][0-9]*m|[0-9]+(\.[0-9]+)?)$/;
const MEMORY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const DURATION = /^([0-9]+(ms|s|m|h|d))+$/;
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

/** A duration in Prometheus' notation (30s, 5m, 1h30m). */
export const duration = z.string().regex(DURATION, { message: 'must be a duration such as 30s, 5m or 1h' });

export const labelKey = z.string().max(253).regex(LABEL_KEY, { message: 'must be a Kubernetes label key such as example.com/name' });
export const labelValue = z.string().max(63).regex(LABEL_VALUE, { message: 'must be a Kubernetes label value (63 characters of letters, digits, "-", "_", ".")' });
export const labels = z.record(labelKey, labelValue);

export const cidr = z.string().refine(isCidr, { message: 'must be a CIDR such as 10.0.0.0/8 or fd00::/8' });

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
