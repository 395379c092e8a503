import type { EnvironmentConfig } from '../config/schema';
import { SMTP_PORT } from './layout';

/**
 * One master.cf service. `chroot` is always "n": the container is the sandbox, and a chroot would
 * need SYS_CHROOT plus copies of /etc files inside the queue directory.
 */
export interface MasterCfService {
  readonly service: string;
  readonly type: 'inet' | 'unix' | 'unix-dgram' | 'fifo' | 'pass';
  readonly private: 'y' | 'n' | '-';
  readonly unpriv: 'y' | 'n' | '-';
  readonly wakeup: string;
  readonly maxproc: string;
  readonly command: string;
  /** `-o name=value` overrides, one a line. */
  readonly options?: readonly string[];
}

const svc = (
  service: string,
  type: MasterCfService['type'],
  priv: MasterCfService['private'],
  wakeup: string,
  maxproc: string,
  command: string,
  options?: readonly string[],
): MasterCfService => ({ service, type, private: priv, unpriv: '-', wakeup, maxproc, command, ...(options?.length ? { options } : {}) });

/**
 * Only what a relay needs: no local, virtual, lmtp or pipe delivery. The smtpd listener is named
 * by port number so it does not depend on /etc/services in the image.
 */
export function masterCfServices(env: EnvironmentConfig): MasterCfService[] {
  // soft_bounce only where mail leaves: in main.cf it would also turn smtpd's 5xx refusals
  // (bad sender, relay denied) into 4xx, so clients would retry what can never succeed.
  const delivery = env.mail.softBounce ? ['soft_bounce=yes'] : [];
  return [
    svc(String(SMTP_PORT), 'inet', 'n', '-', '-', 'smtpd'),
    svc('pickup', 'unix', 'n', '60', '1', 'pickup'),
    svc('cleanup', 'unix', 'n', '-', '0', 'cleanup'),
    svc('qmgr', 'unix', 'n', '300', '1', 'qmgr'),
    svc('tlsmgr', 'unix', '-', '1000?', '1', 'tlsmgr'),
    svc('rewrite', 'unix', '-', '-', '-', 'trivial-rewrite'),
    svc('bounce', 'unix', '-', '-', '0', 'bounce'),
    svc('defer', 'unix', '-', '-', '0', 'bounce'),
    svc('trace', 'unix', '-', '-', '0', 'bounce'),
    svc('verify', 'unix', '-', '-', '1', 'verify'),
    svc('flush', 'unix', 'n', '1000?', '0', 'flush'),
    svc('proxymap', 'unix', '-', '-', '-', 'proxymap'),
    svc('smtp', 'unix', '-', '-', '-', 'smtp', delivery),
    svc('relay', 'unix', '-', '-', '-', 'smtp', ['syslog_name=postfix/$service_name', ...delivery]),
    svc('showq', 'unix', 'n', '-', '-', 'showq'),
    svc('error', 'unix', '-', '-', '-', 'error'),
    svc('retry', 'unix', '-', '-', '-', 'error'),
    svc('discard', 'unix', '-', '-', '-', 'discard'),
    svc('anvil', 'unix', '-', '-', '1', 'anvil'),
    svc('scache', 'unix', '-', '-', '1', 'scache'),
    // maillog_file needs postlogd; the exporter reads that file.
    svc('postlog', 'unix-dgram', 'n', '-', '1', 'postlogd'),
    // smtp_tls_connection_reuse hands TLS sessions to tlsproxy.
    svc('tlsproxy', 'unix', '-', '-', '0', 'tlsproxy'),
  ];
}

export function renderMasterCf(env: EnvironmentConfig): string {
  return formatMasterCf(masterCfServices(env), `master.cf for environment "${env.name}"`);
}

export function formatMasterCf(services: readonly MasterCfService[], title = 'master.cf'): string {
  const header = ['# service', 'type', 'private', 'unpriv', 'chroot', 'wakeup', 'maxproc', 'command'];
  const rows = services.map((s) => [s.service, s.type, s.private, s.unpriv, 'n', s.wakeup, s.maxproc, s.command]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [`# ${title}: rendered by src/postfix/master-cf.ts. Do not edit: change the renderer.`, line(header)];
  services.forEach((s, i) => {
    out.push(line(rows[i]!));
    for (const o of s.options ?? []) out.push(`  -o ${o}`);
  });
  return `${out.join('\n')}\n`;
}
