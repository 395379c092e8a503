import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile, parseEnvironment } from '../../src/config/load';
import { renderMainCf } from '../../src/postfix/main-cf';

// Postfix caches a relay connection only while the destination has a backlog, unless the
// destination is listed in smtp_connection_cache_destinations: under light traffic every message
// then paid a new connection and TLS handshake (the pod bench measured about twice the CPU per
// message at half load, docs/PERFORMANCE.md). The list is matched on the host name: `$relayhost`
// ([host]:port) did not match in the same bench.

const param = (text: string, name: string) => new RegExp(`^${name} = (.*)$`, 'm').exec(text)?.[1];

describe('smtp_connection_cache_destinations', () => {
  it('names the relay host itself (not [host]:port) when connections are reused', () => {
    const prod = renderMainCf(loadEnvironmentFile('environments/prod.yaml'));
    expect(param(prod, 'smtp_connection_cache_destinations')).toBe('smtp-relay.gmail.com');
  });

  it('follows relay.host', () => {
    const env = parseEnvironment(
      { namespace: 'email-server-test', mail: { hostname: 'relay.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] }, relay: { host: 'relay.example.net' } },
      'environments/test.yaml',
    );
    expect(param(renderMainCf(env), 'smtp_connection_cache_destinations')).toBe('relay.example.net');
  });

  it('is left at Postfix default when relay.connectionReuse is off', () => {
    const env = parseEnvironment(
      { namespace: 'email-server-test', mail: { hostname: 'relay.example.com', domain: 'example.com', allowedSenderDomains: ['example.com'] }, relay: { connectionReuse: false } },
      'environments/test.yaml',
    );
    expect(param(renderMainCf(env), 'smtp_connection_cache_destinations')).toBeUndefined();
  });
});
