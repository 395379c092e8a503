import { describe, expect, it } from 'vitest';
import { closestName } from '../../src/config/load';

/** "did you mean ...?" for unknown fields: close enough to help, never a wild guess. */
describe('closestName', () => {
  const mail = ['hostname', 'domain', 'allowedSenderDomains', 'messageSizeLimitBytes', 'maxRecipientsPerMessage', 'softBounce', 'rateLimits'];
  it.each([
    ['allowedSenderDomain', 'allowedSenderDomains'],
    ['allowedSenderdomains', 'allowedSenderDomains'],
    ['hostName', 'hostname'],
    ['HOSTNAME', 'hostname'],
    ['hsotname', 'hostname'],
    ['domian', 'domain'],
    ['softbounce', 'softBounce'],
    ['rateLimit', 'rateLimits'],
    ['messageSize', 'messageSizeLimitBytes'],
    ['allowed', 'allowedSenderDomains'],
  ])('%s -> %s', (typo, meant) => expect(closestName(typo, mail)).toBe(meant));
  it.each(['replicas', 'x', 'tls', 'banana', 'max', 'limits'])('%s -> no suggestion', (name) => expect(closestName(name, mail)).toBeUndefined());
});
