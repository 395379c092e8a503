/**
 * Linux capabilities the postfix container keeps after `drop: [ALL]`. The master process must
 * start as root (it opens port 25 and starts each daemon under its own uid), so "non-root" is not
 * possible for this container; these are the only root powers it keeps. Names are without the
 * `CAP_` prefix, as Kubernetes' securityContext.capabilities.add expects.
 *
 * test/integration/capabilities.test.ts starts Postfix with exactly this bounding set and relays
 * a message, then removes each capability in turn and records the failure that proves it is needed.
 * SYS_CHROOT is absent because every master.cf service runs with chroot = n. KILL is absent: the
 * test shows that start, relay and a graceful stop (master and every child of uid postfix gone,
 * no "Operation not permitted" in the log) all work without it.
 */
export const POSTFIX_CAPABILITIES: readonly { readonly name: string; readonly why: string }[] = [
  {
    name: 'CHOWN',
    why: '`postfix check`/`start` give the queue directories and data_directory (fresh emptyDirs owned by root) to the postfix user and postdrop group.',
  },
  {
    name: 'DAC_OVERRIDE',
    why: 'root (master, entrypoint, postqueue, the preStop drain) reads and writes queue directories that are owned by postfix with mode 0700.',
  },
  {
    name: 'FOWNER',
    why: 'root sets the mode of queue directories and files it does not own (post-install chmod on postfix-owned directories).',
  },
  {
    name: 'SETGID',
    why: 'the master drops each daemon to the postfix group (setgid/setgroups) before it handles mail.',
  },
  {
    name: 'SETUID',
    why: 'the master drops each daemon to the postfix user before it handles mail.',
  },
  {
    name: 'NET_BIND_SERVICE',
    why: 'smtpd listens on port 25, below 1024.',
  },
];
