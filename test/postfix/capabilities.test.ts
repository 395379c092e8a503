import { describe, expect, it } from 'vitest';
import { POSTFIX_CAPABILITIES } from '../../src/postfix/capabilities';

describe('POSTFIX_CAPABILITIES', () => {
  const names = POSTFIX_CAPABILITIES.map((c) => c.name);

  it('is the minimal set Postfix needs with chroot off', () => {
    expect([...names].sort()).toEqual(['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'NET_BIND_SERVICE', 'SETGID', 'SETUID']);
  });

  it('uses Kubernetes names (no CAP_ prefix) and says why each is needed', () => {
    for (const c of POSTFIX_CAPABILITIES) {
      expect(c.name).toMatch(/^[A-Z_]+$/);
      expect(c.name.startsWith('CAP_')).toBe(false);
      expect(c.why.length).toBeGreaterThan(20);
    }
  });

  it('never includes SYS_CHROOT, SYS_ADMIN, NET_RAW or KILL', () => {
    for (const bad of ['SYS_CHROOT', 'SYS_ADMIN', 'NET_RAW', 'KILL']) expect(names).not.toContain(bad);
  });
});
