import { CONFIG_FILES } from '../postfix/layout';
import { expand, masterCfOverrides, parseMainCf } from './main-cf';
import { POSTFIX_CONFIGMAP } from './network';
import { configMapFile } from './objects';
import type { Finding, PolicyRule } from './types';

/** smtp_tls_security_level values that authenticate the relay. */
const AUTHENTICATED = ['secure', 'verify', 'fingerprint', 'dane-only'];

/** What is wrong with a TLS level for the relay, or undefined when it is acceptable. */
function grade(level: string, allowUnverified: boolean, bracketedRelay = true): string | undefined {
  if (level === 'verify' && !bracketedRelay && !allowUnverified) {
    // verify matches the certificate against names from the MX lookup, which DNS can forge.
    return 'must be "secure": "verify" trusts the MX lookup of an unbracketed relayhost (or set relay.allowUnverifiedTls: true)';
  }
  if (AUTHENTICATED.includes(level)) return undefined;
  if (level === 'encrypt') {
    return allowUnverified ? undefined : 'must authenticate the relay ("secure" or "verify"); "encrypt" needs relay.allowUnverifiedTls: true (docs/POLICIES.md)';
  }
  return 'must be at least "encrypt" (mail could leave in clear text); use "secure"';
}

const LEVELS = 'none|may|encrypt|dane-only|dane|fingerprint|verify|secure';

/**
 * The TLS levels a per-destination policy table can impose (they override the main.cf level).
 * inline: and static: tables are read; any other table is reported with `level` undefined.
 */
export function policyMapLevels(value: string): { table: string; level?: string }[] {
  const out: { table: string; level?: string }[] = [];
  const tables = value.match(/[a-z]+:(\{(?:[^{}]|\{[^{}]*\})*\}|[^\s,]+)/g) ?? [];
  for (const table of tables) {
    if (table.startsWith('inline:')) {
      for (const m of table.matchAll(new RegExp(`=\\s*(${LEVELS})(?=[\\s,}])`, 'g'))) out.push({ table, level: m[1]! });
    } else if (table.startsWith('static:')) {
      const m = new RegExp(`^static:\\{?\\s*(${LEVELS})\\b`).exec(table);
      out.push({ table, level: m?.[1] ?? table.slice(7) });
    } else out.push({ table });
  }
  return out;
}

export const relayTls: PolicyRule = {
  id: 'tls.relay-level',
  doc: 'The rendered smtp_tls_security_level (main.cf, smtp_tls_policy_maps entries, master.cf -o overrides) is "secure" or "verify"; "encrypt" only with relay.allowUnverifiedTls; anything weaker never.',
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
    const bracketed = expand(params.get('relayhost') ?? '', params).trim().startsWith('[');
    const problem = level === undefined ? 'must be set (Postfix defaults to no TLS)' : grade(level, allow, bracketed);
    if (problem) out.push({ subject, path: `data.${CONFIG_FILES.mainCf}: smtp_tls_security_level`, problem, value: level });
    const maps = params.get('smtp_tls_policy_maps');
    if (maps !== undefined && maps.trim() !== '') {
      for (const finding of policyMapLevels(expand(maps, params))) {
        const p = finding.level === undefined ? 'must use inline: or static: tables (a file table cannot be checked here)' : grade(finding.level, allow, bracketed);
        if (p) out.push({ subject, path: `data.${CONFIG_FILES.mainCf}: smtp_tls_policy_maps`, problem: p, value: finding.level ?? finding.table });
      }
    }
    const master = configMapFile(objects, POSTFIX_CONFIGMAP, CONFIG_FILES.masterCf).text ?? '';
    for (const override of masterCfOverrides(master, 'smtp_tls_security_level')) {
      const p = grade(expand(override, params), allow, bracketed);
      if (p) out.push({ subject, path: `data.${CONFIG_FILES.masterCf}: -o smtp_tls_security_level`, problem: p, value: override });
    }
    return out;
  },
};
