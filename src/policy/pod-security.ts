import { POSTFIX_CAPABILITIES } from '../postfix/capabilities';
import { POSTFIX_CONTAINER } from '../postfix/layout';
import { arr, at, containersOf, kindOf, nameOf, podTemplates, rec, str, stringMap, type ContainerRef, type PodTemplate } from './objects';
import type { Finding, PolicyRule } from './types';

/**
 * Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
 * checked here so a violation fails synth instead of an admission at deploy time.
 */

/** Capabilities the baseline profile lets a container add. */
export const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE',
  'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
] as const;

const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
];

const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];
const SECCOMP_OK = ['RuntimeDefault', 'Localhost'];

/** The Namespace labels the chart must carry: enforce baseline, warn and audit at restricted. */
export const NAMESPACE_PSS_LABELS: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'baseline',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/audit': 'restricted',
};

const caps = (c: ContainerRef, list: 'add' | 'drop'): string[] =>
  arr(at(c.container, 'securityContext', 'capabilities', list)).map(String);

function baselinePod(pod: PodTemplate): Finding[] {
  const out: Finding[] = [];
  const f = (path: string, problem: string, value: unknown) => out.push({ subject: pod.subject, path, problem, value });
  const sp = pod.specPath;
  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    if (pod.spec[ns] === true) f(`${sp}.${ns}`, 'must be false or unset (host namespaces are not allowed)', true);
  }
  const podSc = rec(pod.spec.securityContext) ?? {};
  const contexts: [string, unknown][] = [[`${sp}.securityContext`, podSc]];
  for (const c of containersOf(pod)) {
    const sc = rec(c.container.securityContext) ?? {};
    contexts.push([`${c.path}.securityContext`, sc]);
    if (sc.privileged === true) f(`${c.path}.securityContext.privileged`, 'must be false or unset (privileged containers are not allowed)', true);
    const extra = caps(c, 'add').filter((cap) => !(BASELINE_CAPABILITIES as readonly string[]).includes(cap));
    if (extra.length) f(`${c.path}.securityContext.capabilities.add`, `may only add ${BASELINE_CAPABILITIES.join(', ')}`, extra);
    arr(c.container.ports).forEach((p, i) => {
      const hostPort = at(p, 'hostPort');
      if (hostPort !== undefined && hostPort !== 0) f(`${c.path}.ports[${i}].hostPort`, 'must be 0 or unset (host ports are not allowed)', hostPort);
    });
    if (sc.procMount !== undefined && sc.procMount !== 'Default') f(`${c.path}.securityContext.procMount`, 'must be Default or unset', sc.procMount);
  }
  for (const [path, sc] of contexts) {
    if (at(sc, 'windowsOptions', 'hostProcess') === true) f(`${path}.windowsOptions.hostProcess`, 'must be false or unset', true);
    const seccomp = at(sc, 'seccompProfile', 'type');
    if (seccomp === 'Unconfined') f(`${path}.seccompProfile.type`, 'must not be Unconfined (RuntimeDefault or Localhost)', seccomp);
    const apparmor = at(sc, 'appArmorProfile', 'type');
    if (apparmor === 'Unconfined') f(`${path}.appArmorProfile.type`, 'must not be Unconfined (RuntimeDefault or Localhost)', apparmor);
    const se = rec(at(sc, 'seLinuxOptions'));
    if (se) {
      if (se.type !== undefined && !SELINUX_TYPES.includes(String(se.type))) f(`${path}.seLinuxOptions.type`, `must be one of ${SELINUX_TYPES.filter(Boolean).join(', ')}`, se.type);
      for (const k of ['user', 'role']) if (se[k] !== undefined && se[k] !== '') f(`${path}.seLinuxOptions.${k}`, 'must be unset', se[k]);
    }
  }
  arr(podSc.sysctls).forEach((s, i) => {
    const name = str(at(s, 'name'));
    if (!name || !SAFE_SYSCTLS.includes(name)) f(`${sp}.securityContext.sysctls[${i}].name`, `must be one of the safe sysctls (${SAFE_SYSCTLS.join(', ')})`, name);
  });
  arr(pod.spec.volumes).forEach((v, i) => {
    if (rec(at(v, 'hostPath'))) f(`${sp}.volumes[${str(at(v, 'name')) ?? i}].hostPath`, 'must not be used (hostPath volumes are not allowed)', at(v, 'hostPath'));
  });
  for (const [key, value] of Object.entries(pod.annotations)) {
    if (key.startsWith('container.apparmor.security.beta.kubernetes.io/') && value !== 'runtime/default' && !value.startsWith('localhost/')) {
      f(`${sp.replace(/spec$/, 'metadata')}.annotations.${key}`, 'must be runtime/default or localhost/<profile>', value);
    }
  }
  return out;
}

export const podBaseline: PolicyRule = {
  id: 'pss.baseline',
  doc: 'Every pod meets the Pod Security Standards `baseline` profile.',
  check: ({ objects }) => podTemplates(objects).flatMap(baselinePod),
};

function restrictedContainer(c: ContainerRef): Finding[] {
  const out: Finding[] = [];
  const f = (field: string, problem: string, value: unknown) => out.push({ subject: c.pod.subject, path: `${c.path}.securityContext.${field}`, problem, value });
  const sc = rec(c.container.securityContext) ?? {};
  const podSc = rec(c.pod.spec.securityContext) ?? {};
  if (sc.allowPrivilegeEscalation !== false) f('allowPrivilegeEscalation', 'must be false', sc.allowPrivilegeEscalation);
  const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
  if (nonRoot !== true) f('runAsNonRoot', 'must be true (here or in the pod securityContext)', nonRoot);
  const uid = sc.runAsUser ?? podSc.runAsUser;
  if (uid === 0) f('runAsUser', 'must not be 0 (root)', uid);
  const seccomp = at(sc, 'seccompProfile', 'type') ?? at(podSc, 'seccompProfile', 'type');
  if (!SECCOMP_OK.includes(String(seccomp))) f('seccompProfile.type', 'must be RuntimeDefault or Localhost (here or in the pod securityContext)', seccomp);
  const drop = caps(c, 'drop');
  if (!drop.includes('ALL')) f('capabilities.drop', 'must include ALL', drop);
  const add = caps(c, 'add').filter((cap) => cap !== 'NET_BIND_SERVICE');
  if (add.length) f('capabilities.add', 'may only add NET_BIND_SERVICE', caps(c, 'add'));
  return out;
}

export const containersRestricted: PolicyRule = {
  id: 'pss.restricted',
  doc: `Every container other than \`${POSTFIX_CONTAINER}\` meets the \`restricted\` profile: non-root, no privilege escalation, capabilities drop ALL, seccomp RuntimeDefault or Localhost.`,
  check: ({ objects }) =>
    podTemplates(objects)
      .flatMap((p) => containersOf(p))
      .filter((c) => c.name !== POSTFIX_CONTAINER)
      .flatMap(restrictedContainer),
};

export const postfixCapabilities: PolicyRule = {
  id: 'pss.postfix-capabilities',
  doc: `The \`${POSTFIX_CONTAINER}\` container drops ALL capabilities, adds back exactly POSTFIX_CAPABILITIES, and cannot escalate privileges.`,
  check: ({ objects }) => {
    const expected = [...new Set<string>(POSTFIX_CAPABILITIES.map((c) => c.name))].sort();
    const out: Finding[] = [];
    const pods = podTemplates(objects);
    const postfix = pods.flatMap((p) => containersOf(p)).filter((c) => c.name === POSTFIX_CONTAINER);
    if (!postfix.length && pods.length) {
      out.push({ subject: pods[0]!.subject, path: `${pods[0]!.specPath}.containers`, problem: `must include the ${POSTFIX_CONTAINER} container`, value: containersOf(pods[0]!).map((c) => c.name) });
    }
    for (const c of postfix) {
      const f = (field: string, problem: string, value: unknown) => out.push({ subject: c.pod.subject, path: `${c.path}.securityContext.${field}`, problem, value });
      const drop = caps(c, 'drop');
      if (!drop.includes('ALL')) f('capabilities.drop', 'must include ALL', drop);
      const add = caps(c, 'add');
      const sorted = [...add].sort();
      if (sorted.length !== expected.length || sorted.some((cap, i) => cap !== expected[i])) {
        f('capabilities.add', `must be exactly ${expected.join(', ')} (POSTFIX_CAPABILITIES, src/postfix/capabilities.ts)`, add);
      }
      const sc = rec(c.container.securityContext) ?? {};
      if (sc.allowPrivilegeEscalation !== false) f('allowPrivilegeEscalation', 'must be false', sc.allowPrivilegeEscalation);
      const seccomp = at(sc, 'seccompProfile', 'type') ?? at(c.pod.spec.securityContext, 'seccompProfile', 'type');
      if (!SECCOMP_OK.includes(String(seccomp))) f('seccompProfile.type', 'must be RuntimeDefault or Localhost (here or in the pod securityContext)', seccomp);
    }
    return out;
  },
};

export const namespaceLabels: PolicyRule = {
  id: 'pss.namespace-labels',
  doc: 'The chart\'s Namespace object enforces `baseline` and warns and audits at `restricted` (pod-security.kubernetes.io/* labels).',
  check: ({ env, objects }) => {
    const ns = objects.find((o) => kindOf(o) === 'Namespace' && nameOf(o) === env.namespace);
    if (!ns) {
      const present = objects.filter((o) => kindOf(o) === 'Namespace').map(nameOf);
      return [{ subject: `Namespace/${env.namespace}`, path: '(object)', problem: 'must be part of the chart, carrying the pod-security.kubernetes.io labels', value: present.length ? present : undefined }];
    }
    const labels = stringMap(at(ns, 'metadata', 'labels'));
    return Object.entries(NAMESPACE_PSS_LABELS)
      .filter(([k, v]) => labels[k] !== v)
      .map(([k, v]) => ({ subject: `Namespace/${env.namespace}`, path: `metadata.labels.${k}`, problem: `must be ${v}`, value: labels[k] }));
  },
};
