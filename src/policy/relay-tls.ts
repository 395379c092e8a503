import { CONFIG_FILES } from '../postfix/layout';
import { expand, masterCfOverrides, parseMainCf } from './main-cf';
import { POSTFIX_CONFIGMAP } from './network';
import { configMapFile } from './objects';
import type { Finding, PolicyRule } from './types';

/** smtp_tls_security_level values that authenticate the relay. */
const AUTHENTICATED = ['secure', 'verify', 'fingerprint', 'dane-only'];

function grade(level: string, allowUnverified: boolean): string | undefined {
  if (AUTHENTICATED.includes(level)) return undefined;
  if (level === 'encrypt') {
    return allowUnverified ? undefined : 'must authenticate the relay ("secure" or "verify"); "encrypt" needs relay.allowUnverifiedTls: true (docs/POLICIES.md)';
  }
  return 'must be at least "encrypt" (mail could leave in clear text); use "secure"';
}

export const relayTls: PolicyRule = {
  id: 'tls.relay-level',
  doc: 'The rendered smtp_tls_security_level (main.cf and any master.cf -o override) is "secure" or "verify"; "encrypt" only with relay.allowUnverifiedTls; anything weaker never.',
  check: ({ env, objects }) => {
    const out: Finding[] = [];
    const subject = `ConfigMap/${POSTFIX_CONFIGMAP}`;
    const allow = env.relay.allowUnverifiedTls;
    const main = configMapFile(objects, POSTFIX_CONFIGMAP, CONFIG_FILES.mainCf);
    if (main.text === undefined) {
      return [{ subject, path: `data.${CONFIG_FILES.mainCf}`, problem: 'must hold the rendered main.cf', value: undefined }];
    }
    const params = parseMainCf(main.text);
    const raw = params.get('smtp_tls_security_level');
    const level = raw === undefined ? undefined : expand(raw, params);
    const problem = level === undefined ? 'must be set (Postfix defaults to no TLS)' : grade(level, allow);
    if (problem) out.push({ subject, path: `data.${CONFIG_FILES.mainCf}: smtp_tls_security_level`, problem, value: level });
    const master = configMapFile(objects, POSTFIX_CONFIGMAP, CONFIG_FILES.masterCf).text ?? '';
    for (const override of masterCfOverrides(master, 'smtp_tls_security_level')) {
      const p = grade(expand(override, params), allow);
      if (p) out.push({ subject, path: `data.${CONFIG_FILES.masterCf}: -o smtp_tls_security_level`, problem: p, value: override });
    }
    return out;
  },
};
