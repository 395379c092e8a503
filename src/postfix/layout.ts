/**
 * Where things live inside the relay pod. The renderers (main.cf, master.cf, scripts) and the
 * constructs (volumes, mounts, probes) both read these, so they cannot drift apart.
 */
export const SMTP_PORT = 25;

/** Name of the workload, the SMTP Service, PDB and HPA; the other Services derive from it. */
export const RELAY_NAME = 'postfix-relay';
/** The metrics Service; Prometheus Operator uses it as the `job` label the alerts select. */
export const METRICS_SERVICE_NAME = `${RELAY_NAME}-metrics`;
export const HEADLESS_SERVICE_NAME = `${RELAY_NAME}-headless`;

/** Name of the postfix container; also the `postfix/<service>` syslog prefix the exporter parses. */
export const POSTFIX_CONTAINER = 'postfix';
export const EXPORTER_CONTAINER = 'exporter';

export const PATHS = {
  /** ConfigMap mount (read-only): main.cf, master.cf and the scripts. Postfix runs with `-c` on it. */
  configDir: '/etc/postfix-relay',
  /** Queue: an emptyDir, or a PVC when queue.persistence is on. */
  queueDir: '/var/spool/postfix',
  /** Postfix' data_directory (TLS session caches, etc.): an emptyDir. */
  dataDir: '/var/lib/postfix',
  /** Shared with the exporter (read-only there): the Postfix log file and its one rotated copy. */
  logDir: '/var/log/postfix',
  logFile: '/var/log/postfix/postfix.log',
  /** Scratch space for the scripts under a read-only root filesystem. */
  tmpDir: '/tmp',
  /** relay.auth: the Secret volume (read-only, root only), its keys mounted as AUTH_FILES. */
  authDir: '/etc/postfix-relay-auth',
  /** relay.auth: memory-backed volume where the entrypoint writes the SASL table (mode 0600). */
  saslDir: '/run/postfix-relay-sasl',
  saslTable: '/run/postfix-relay-sasl/passwd',
} as const;

/** relay.auth: the file names the Secret's two keys are mounted as (volume items). */
export const AUTH_FILES = { username: 'username', password: 'password' } as const;

/** Keys of the `postfix-config` ConfigMap. */
export const CONFIG_FILES = {
  mainCf: 'main.cf',
  masterCf: 'master.cf',
  entrypoint: 'entrypoint.sh',
  drain: 'drain.sh',
} as const;

export const ENTRYPOINT_PATH = `${PATHS.configDir}/${CONFIG_FILES.entrypoint}`;
export const DRAIN_PATH = `${PATHS.configDir}/${CONFIG_FILES.drain}`;

/** showq socket the exporter reads, relative to the queue directory. */
export const SHOWQ_SOCKET = `${PATHS.queueDir}/public/showq`;

/** User and group the exporter sidecar runs as (nobody); it needs no privileges. */
export const EXPORTER_UID = 65534;
