import type { EnvironmentConfig } from '../config/schema';
import { ENTRYPOINT_PATH, EXPORTER_UID } from './layout';

/**
 * Group that may read the Postfix log file and reach the showq socket: the exporter sidecar
 * (uid 65534) runs with this gid (`runAsGroup`), so it needs no other privilege.
 *
 * Why a fixed gid of our own rather than the image's `postdrop` group: postdrop's gid is assigned
 * at package install time and differs between images and tags, while the pod spec needs a number.
 * The entrypoint puts `<queue>/public` (where showq lives, mode 0710) and the log directory into
 * this group after Postfix has created them. Nothing in the pod uses postdrop as non-root (the
 * preStop drain and kubectl exec run as root), so giving public/ to this group loses nothing.
 */
export const MONITOR_GID = 2525;

/** Seconds between two log-size checks of the rotation loop. */
export const LOG_ROTATE_CHECK_SECONDS = 10;

/**
 * The postfix container's command, run as `sh <ENTRYPOINT_PATH>`. POSIX sh: it runs under
 * BusyBox ash in the Alpine image and under dash on Debian (integration tests), and passes
 * `shellcheck -s sh`. It derives the config directory from its own location, so tests run the
 * very same script from a temporary directory.
 */
export function renderEntrypoint(env: EnvironmentConfig): string {
  return `#!/bin/sh
# entrypoint.sh for environment "${env.name}": rendered by src/postfix/entrypoint.ts. Do not edit.
#
# The postfix container's command (sh ${ENTRYPOINT_PATH}). It replaces the image's run.sh,
# which rewrites main.cf at every start: here Postfix runs on the read-only ConfigMap directory
# that holds this script, so what runs is exactly what was rendered.
#   1. prepares the writable volumes (queue, data_directory, log directory);
#   2. streams the Postfix log file to stdout, so \`kubectl logs\` shows it;
#   3. runs \`postfix check\`: a bad configuration stops the container here, visibly;
#   4. runs the master in the foreground; SIGTERM becomes \`postfix stop\`, and the script exits
#      when the master does, so Kubernetes restarts a crashed relay;
#   5. lets the exporter (uid ${EXPORTER_UID}, gid ${MONITOR_GID}) read the log and reach showq;
#   6. rotates the log file at ${env.metrics.logRotateBytes} bytes, keeping one old file.
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

monitor_gid=${MONITOR_GID}
rotate_bytes=${env.metrics.logRotateBytes}
rotate_check_seconds=${LOG_ROTATE_CHECK_SECONDS}

tail_pid=''
rotate_pid=''
master_job=''
stop_requested=0

say() { printf 'entrypoint: %s\\n' "$*" >&2; }
cleanup() {
  for pid in $rotate_pid $tail_pid; do kill "$pid" 2>/dev/null; done
}
die() {
  say "FATAL: $*"
  cleanup
  exit 1
}
# shellcheck disable=SC2317 # called by the trap below
on_term() {
  stop_requested=1
  if [ -z "$master_job" ]; then
    say "stopped before Postfix started"
    cleanup
    exit 143
  fi
  say "SIGTERM: stopping Postfix"
  postfix -c "$config_dir" stop || say "postfix stop failed"
}
trap on_term TERM INT

config_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || die "cannot find the directory of $0"
# Every postfix command and daemon started below reads this directory, never /etc/postfix.
MAIL_CONFIG=$config_dir
export MAIL_CONFIG

param() {
  postconf -c "$config_dir" -h "$1" || die "cannot read $1 from $config_dir/main.cf"
}
queue_dir=$(param queue_directory) || exit 1
data_dir=$(param data_directory) || exit 1
log_file=$(param maillog_file) || exit 1
mail_owner=$(param mail_owner) || exit 1
log_dir=$(dirname -- "$log_file")

# 1. Fresh emptyDirs are root-owned and world-writable; Postfix refuses group/other-writable
# queue directories. \`postfix check\` below creates the queue subdirectories with their owners.
mkdir -p "$queue_dir" "$data_dir" "$log_dir" || die "cannot create $queue_dir, $data_dir or $log_dir"
chown root:root "$queue_dir" || die "cannot set the owner of $queue_dir"
chmod 0755 "$queue_dir" || die "cannot set the mode of $queue_dir"
chown "$mail_owner" "$data_dir" || die "cannot give $data_dir to $mail_owner"
chmod 0700 "$data_dir" || die "cannot set the mode of $data_dir"
[ -f "$log_file" ] || : >"$log_file" || die "cannot create $log_file"
chown "root:$monitor_gid" "$log_dir" "$log_file" || die "cannot give $log_file to group $monitor_gid"
chmod 0750 "$log_dir" || die "cannot set the mode of $log_dir"
chmod 0640 "$log_file" || die "cannot set the mode of $log_file"

# 2. Postfix writes its log only to the file (the exporter parses it); mirror it to stdout.
tail -n 0 -F "$log_file" 2>/dev/null &
tail_pid=$!

# 3. Fail fast: a configuration Postfix rejects must not become a pod that looks alive.
if ! postfix -c "$config_dir" check; then
  sleep 1
  die "\\\`postfix -c $config_dir check\\\` failed (its messages are above): fix the environment file and re-render"
fi

# 4. Foreground master. Not exec'd: this shell stays PID 1 to forward SIGTERM as \`postfix stop\`,
# stream the log and rotate it.
postfix -c "$config_dir" start-fg &
master_job=$!

# 5. showq (mode 0666) lives in <queue>/public (mode 0710). Give that directory to the monitor
# group once the master has created its sockets.
tries=0
until [ -S "$queue_dir/public/showq" ] || [ "$tries" -ge 300 ] || ! kill -0 "$master_job" 2>/dev/null; do
  sleep 0.1
  tries=$((tries + 1))
done
if [ -S "$queue_dir/public/showq" ]; then
  if ! { chgrp "$monitor_gid" "$queue_dir/public" && chmod 0710 "$queue_dir/public"; }; then
    say "cannot give $queue_dir/public to group $monitor_gid: the exporter will not see the queue"
  fi
fi

# 6. Rotation: rename, recreate with the monitor group, and reload so postlogd reopens the file.
(
  while sleep "$rotate_check_seconds"; do
    size=$(wc -c <"$log_file" 2>/dev/null) || continue
    if [ "$size" -ge "$rotate_bytes" ]; then
      mv -f "$log_file" "$log_file.1" &&
        : >"$log_file" &&
        chown "root:$monitor_gid" "$log_file" &&
        chmod 0640 "$log_file" &&
        postfix -c "$config_dir" reload >/dev/null 2>&1
    fi
  done
) &
rotate_pid=$!

status=0
while :; do
  wait "$master_job"
  status=$?
  kill -0 "$master_job" 2>/dev/null || break
done
sleep 1
cleanup
if [ "$stop_requested" = 1 ]; then
  say "Postfix stopped"
  exit 0
fi
say "the Postfix master exited unexpectedly (status $status): exiting so that Kubernetes restarts the container"
exit 1
`;
}
