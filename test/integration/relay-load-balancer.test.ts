import { describe, expect, it } from 'vitest';
import { mainCfEntries } from '../../src/postfix/main-cf';
import { variant } from '../charts/variant';
import { requireTool, smtpConversation, type PostfixInstance, type Sink } from './harness';
import { useRelay } from './harness/relay-fixture';

// Issue 13: a LoadBalancer's client ranges are trusted by the real Postfix, and nothing else is.
// Loopback addresses stand in for the networks: the cluster is 127.0.0.1/32, the load balancer's
// clients are 127.0.0.3/32 and 127.0.1.0/24 (plus an IPv6 range, which Postfix must read even
// with inet_protocols = ipv4), and 127.0.0.2 and 127.0.2.9 are somewhere else on the internet. The rendered mynetworks line is used as it is (the harness would otherwise
// narrow it to 127.0.0.1/32); the same environment with a ClusterIP Service is the control.

const ready = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');

const RANGES = ['127.0.0.3/32', '127.0.1.0/24', '2001:db8:10::/48'];
const base = { network: { clusterCidrs: ['127.0.0.1/32'], allowPublicClientNetworks: true } };
const loadBalancer = variant('prod', { ...base, service: { type: 'LoadBalancer', loadBalancerSourceRanges: RANGES } });
const clusterIp = variant('prod', base);

const renderedMynetworks = (env: typeof loadBalancer) => mainCfEntries(env).find(([name]) => name === 'mynetworks')![1];

/** One message from `source`: the reply codes of RCPT TO and of the end of DATA (or DATA itself when refused). */
async function relayFrom(pf: PostfixInstance, source: string): Promise<{ rcpt: number; data: number; text: string }> {
  const replies = await smtpConversation(
    pf.port,
    ['EHLO client.example', 'MAIL FROM:<app@bionicaisolutions.com>', 'RCPT TO:<someone@example.com>', 'DATA', `Subject: from ${source}\r\n\r\nhello\r\n.`, 'QUIT'],
    { localAddress: source },
  );
  const rcpt = replies[3]!;
  const data = rcpt.code === 250 ? replies[5]! : replies[4]!;
  return { rcpt: rcpt.code, data: data.code, text: `${rcpt.text} / ${data.text}` };
}

describe.skipIf(!ready)('LoadBalancer client ranges on real Postfix', () => {
  it('renders the cluster network, then the load balancer ranges, into mynetworks', () => {
    expect(renderedMynetworks(loadBalancer)).toBe('127.0.0.1/32, 127.0.0.3/32, 127.0.1.0/24, [2001:db8:10::]/48');
    expect(renderedMynetworks(clusterIp)).toBe('127.0.0.1/32');
  });

  describe('service.type LoadBalancer', () => {
    let sink: Sink;
    let pf: PostfixInstance;
    useRelay(loadBalancer, { postfix: { mainCf: { mynetworks: renderedMynetworks(loadBalancer) } }, clearSinkEachTest: true }, (r) => ({ sink, pf } = r));

    it.each(['127.0.0.3', '127.0.1.7', '127.0.1.254'])('relays for %s (inside a load balancer range)', async (source) => {
      const r = await relayFrom(pf, source);
      expect(r.rcpt, r.text).toBe(250);
      expect(r.data, r.text).toBe(250);
      const [m] = await sink.waitForMessages(1);
      expect(m!.rcptTo).toEqual(['someone@example.com']);
      expect(m!.tls).toBe(true);
    });

    it('still relays for the cluster network (127.0.0.1)', async () => {
      const r = await relayFrom(pf, '127.0.0.1');
      expect(r.rcpt, r.text).toBe(250);
      await sink.waitForMessages(1);
    });

    it.each(['127.0.0.2', '127.0.2.9', '127.0.0.4'])('refuses %s (outside every range) and relays nothing', async (source) => {
      const r = await relayFrom(pf, source);
      expect(r.rcpt, r.text).toBe(554);
      expect(r.text).toMatch(/Relay access denied: client address not in network\.mynetworks/);
      expect(r.data).toBeGreaterThanOrEqual(500);
      await pf.waitForLog(new RegExp(`reject: RCPT from unknown\\[${source.replace(/\./g, '\\.')}\\]`));
      expect(sink.messages).toEqual([]);
      await pf.waitForQueue((q) => q.length === 0, 'an empty queue');
    });

    // After the refusals: smtpd reads the whole list only for a client that matches no entry.
    it('read every mynetworks entry (the IPv6 range too) without an error', () => {
      expect(pf.log()).not.toMatch(/postfix\/smtpd\[\d+\]: (error|fatal|warning): /);
    });
  });

  describe('the same environment with service.type ClusterIP (control)', () => {
    let sink: Sink;
    let pf: PostfixInstance;
    useRelay(clusterIp, { postfix: { mainCf: { mynetworks: renderedMynetworks(clusterIp) } } }, (r) => ({ sink, pf } = r));

    it('refuses the addresses the load balancer ranges would admit', async () => {
      for (const source of ['127.0.0.3', '127.0.1.7']) {
        const r = await relayFrom(pf, source);
        expect(r.rcpt, `${source}: ${r.text}`).toBe(554);
      }
      const ok = await relayFrom(pf, '127.0.0.1');
      expect(ok.rcpt, ok.text).toBe(250);
      const messages = await sink.waitForMessages(1);
      expect(messages).toHaveLength(1);
    });
  });
});
