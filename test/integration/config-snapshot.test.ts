import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { requireTool, smtpConversation, startPostfix, stopAllPostfix, type PostfixInstance } from './harness';

// The kubelet rewrites a mounted ConfigMap inside every running pod about a minute after an
// apply. The entrypoint runs Postfix on a copy taken at start, so a new main.cf reaches a pod
// only through the rolling update (the config checksum), one checked pod at a time.
const ready = requireTool('postfix', 'postfix');

describe.skipIf(!ready)('a ConfigMap changed under a running relay', () => {
  let pf: PostfixInstance;
  beforeAll(async () => {
    pf = await startPostfix({ env: loadEnvironmentFile('environments/prod.yaml') });
  });
  afterAll(async () => {
    await stopAllPostfix();
  });

  it('does not reach the running daemons: new sessions keep the configuration loaded at start', async () => {
    const live = join(pf.configDir, '..data', 'main.cf');
    const before = readFileSync(live, 'utf8');
    expect(before).toMatch(/^smtpd_banner = \$myhostname ESMTP$/m);
    writeFileSync(live, before.replace(/^smtpd_banner = .*$/m, 'smtpd_banner = $myhostname CHANGED-UNDER-THE-POD'));

    // Several sessions at once make the master start new smtpd processes, which read main.cf.
    const sessions = await Promise.all(Array.from({ length: 4 }, () => smtpConversation(pf.port, ['QUIT'])));
    for (const [greeting] of sessions) {
      expect(greeting?.code).toBe(220);
      expect(greeting?.text).toContain('mail.bionicaisolutions.com ESMTP');
      expect(greeting?.text).not.toContain('CHANGED-UNDER-THE-POD');
    }
    expect(pf.output.stderr).toMatch(/running the configuration of .* as loaded at start/);
  });
});
