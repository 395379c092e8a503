import { describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { SMTP_PORT } from '../../src/postfix/layout';
import { masterCfServices, renderMasterCf } from '../../src/postfix/master-cf';

const ENVS = ['dev', 'staging', 'prod'] as const;

/** Service lines as Postfix reads them: 8 columns, then the command's arguments. */
function services(text: string) {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !/^\s/.test(l))
    .map((l) => {
      const [service, type, priv, unpriv, chroot, wakeup, maxproc, command, ...args] = l.split(/\s+/);
      return { service, type, priv, unpriv, chroot, wakeup, maxproc, command, args };
    });
}

describe.each(ENVS)('master.cf for %s', (name) => {
  const env = loadEnvironmentFile(`environments/${name}.yaml`);
  const text = renderMasterCf(env);
  const rows = services(text);

  it('runs smtpd on port 25', () => {
    expect(rows.filter((r) => r.type === 'inet')).toEqual([expect.objectContaining({ service: String(SMTP_PORT), command: 'smtpd' })]);
  });

  it('runs no service in a chroot (no SYS_CHROOT needed)', () => {
    expect(rows.length).toBeGreaterThan(10);
    for (const r of rows) expect(r.chroot, r.service).toBe('n');
  });

  it('has every service a TLS relay needs, including postlog and tlsproxy', () => {
    const byName = new Map(rows.map((r) => [`${r.service}/${r.type}`, r]));
    for (const s of ['pickup', 'cleanup', 'qmgr', 'tlsmgr', 'rewrite', 'bounce', 'defer', 'trace', 'verify', 'flush', 'proxymap', 'smtp', 'relay', 'showq', 'error', 'retry', 'discard', 'anvil', 'scache', 'tlsproxy']) {
      expect(byName.has(`${s}/unix`), s).toBe(true);
    }
    expect(byName.get('postlog/unix-dgram')?.command).toBe('postlogd');
    expect(byName.get('tlsproxy/unix')?.command).toBe('tlsproxy');
  });

  it('delivers nothing locally', () => {
    const commands = rows.map((r) => r.command);
    for (const c of ['local', 'virtual', 'lmtp', 'pipe']) expect(commands).not.toContain(c);
  });

  it('has exactly 8 columns on every service line (stray words stall Postfix)', () => {
    for (const r of rows) expect(r.args, r.service).toEqual([]);
    expect(new Set(rows.map((r) => `${r.service}/${r.type}`)).size).toBe(rows.length);
    expect(masterCfServices(env).length).toBe(rows.length);
  });

  it('holds mail the relay refuses (soft_bounce) on the delivery transports only where the environment asks', () => {
    const opts = (service: string) => masterCfServices(env).find((s) => s.service === service && s.type === 'unix')?.options ?? [];
    const expected = name === 'prod' ? [] : ['soft_bounce=yes'];
    expect(opts('smtp')).toEqual(expected);
    expect(opts('relay').filter((o) => o.startsWith('soft_bounce'))).toEqual(expected);
    expect(env.mail.softBounce).toBe(name !== 'prod');
    for (const s of masterCfServices(env).filter((s) => s.command !== 'smtp')) expect(s.options ?? []).not.toContain('soft_bounce=yes');
  });

  it('matches the snapshot', () => {
    expect(text).toMatchSnapshot();
  });
});
