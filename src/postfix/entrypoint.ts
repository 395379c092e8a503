import type { EnvironmentConfig } from '../config/schema';
import { DRAIN_REFUSE_TABLE } from './drain';
import { ENTRYPOINT_PATH, EXPORTER_UID } from './layout';
import { saslEntrypointFunctions, saslEntrypointStart, saslEntrypointWatch } from './sasl';

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

/** Indents every non-empty line of a shell fragment (to nest it one block deeper). */
function indentLines(text: string, by: string): string {
  return text.replace(/^(?=.)/gm, by);
}

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
#   4. runs the master in the foreground; SIGTERM stops the background loop (6, 7) and then runs
#      \`postfix stop\`, once; the script exits when the master does, so Kubernetes restarts a
#      crashed relay, and names the cause when the master dies at start-up;
#   5. lets the exporter (uid ${EXPORTER_UID}, gid ${MONITOR_GID}) read the log and reach showq;
#   6. rotates the log file at ${env.metrics.logRotateBytes} bytes, keeping one old file${env.relay.auth ? `;
#   7. relay.auth: builds the SASL table from the mounted Secret (1b), and rebuilds it, reloads
#      Postfix and retries deferred mail when the kubelet updates that Secret` : ''}.
set -u
# Keep the image's PATH first (BusyBox applets on Alpine); make sure the sbin directories are in it.
PATH=$PATH:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

monitor_gid=${MONITOR_GID}
rotate_bytes=${env.metrics.logRotateBytes}
rotate_check_seconds=${LOG_ROTATE_CHECK_SECONDS}

tail_pid=''
loop_pid=''
master_job=''
# prepare (no master yet) -> starting (master forked, not serving yet) -> running -> exited
phase=prepare
stop_requested=0
stopping=0
serving=0
snapshot=''

say() { printf 'entrypoint: %s\\n' "$*" >&2; }
# Stops the background loop and waits until it is gone. It finishes the command it is running
# (a reload, a flush) and starts nothing more, so nothing reloads a Postfix that is stopping.
stop_loop() {
  [ -n "$loop_pid" ] || return 0
  # Repeated: a SIGTERM that reaches the freshly forked loop before it has set its own trap is
  # lost (the shells run no handler for it then). The sleep lets this shell reap the loop.
  while kill -TERM "$loop_pid" 2>/dev/null; do
    sleep 0.1 2>/dev/null || sleep 1
  done
  wait "$loop_pid" 2>/dev/null
  loop_pid=''
}
cleanup() {
  stop_loop
  if [ -n "$tail_pid" ]; then
    kill "$tail_pid" 2>/dev/null
    wait "$tail_pid" 2>/dev/null
    tail_pid=''
  fi
  if [ -n "$snapshot" ]; then rm -rf "$snapshot"; fi
}
die() {
  say "FATAL: $*"
  cleanup
  exit 1
}
# The orderly stop, once: the loop first (waited for), then \`postfix stop\` while the master
# runs. The preStop drain (drain.sh) has run before the SIGTERM; this only ends what is left.
stop_postfix() {
  [ "$stopping" = 0 ] || return 0
  stopping=1
  say "SIGTERM: stopping Postfix"
  stop_loop
  if kill -0 "$master_job" 2>/dev/null; then
    postfix -c "$config_dir" stop || say "postfix stop failed"
  fi
}
# SIGTERM (or INT). From its first command on, further signals only set the flag, so the
# handler never runs twice, nor inside itself. While the master starts, the stop waits until it
# serves: \`postfix stop\` before the master has locked its pid file finds nothing to stop.
# shellcheck disable=SC2317 # called by the trap below
on_term() {
  trap 'stop_requested=1' TERM INT
  stop_requested=1
  case $phase in
  prepare)
    say "stopped before Postfix started"
    cleanup
    exit 143
    ;;
  running) stop_postfix ;;
  esac
}
trap on_term TERM INT

# Start-up diagnosis. When the master dies before postlogd runs (it cannot bind a listener),
# Postfix 3.7 writes the fatal error to the log file (mirrored on stdout), but 3.10 writes it
# nowhere, not even to stderr: its fallback to maillog_file never engages. So say what this
# shell can see: the inet listeners of master.cf whose port another socket holds, or that need
# NET_BIND_SERVICE this container lacks. It only reads /proc and the configuration.

# One line per socket listening on TCP port $1 in this network namespace: "ADDRESS:PORT (pid
# PID, COMMAND)"; a socket of another container of the pod (or of the node, with hostNetwork)
# has no pid here.
port_listeners() {
  want=$1
  for table in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$table" ] || continue
    # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    while read -r _ laddr _ state _ _ _ _ _ inode _; do
      [ "$state" = 0A ] || continue # LISTEN
      [ "$((0x\${laddr##*:}))" = "$want" ] || continue
      # The address is printed as 32-bit words in host byte order (little-endian here).
      # shellcheck disable=SC2046 # split into bytes on purpose
      set -- $(printf '%s\\n' "\${laddr%:*}" | sed 's/../& /g')
      if [ "$#" = 4 ]; then
        address="$((0x$4)).$((0x$3)).$((0x$2)).$((0x$1))"
      else
        address=''
        while [ "$#" -ge 4 ]; do
          address="$address:$(printf '%x:%x' "$((0x$4$3))" "$((0x$2$1))")"
          shift 4
        done
        address="[\${address#:}]"
        if [ "$address" = '[0:0:0:0:0:0:0:0]' ]; then address='[::]'; fi
      fi
      owner=$(socket_owner "$inode")
      printf '%s:%s (%s)\\n' "$address" "$want" "\${owner:-not a process of this container}"
    done <"$table"
  done
}
# "pid PID, COMMAND" of the process holding socket inode $1, if it runs in this container.
socket_owner() {
  # shellcheck disable=SC2012 # ls -l shows each fd's target in one pass; find -lname is not in BusyBox
  pid=$(ls -l /proc/[0-9]*/fd 2>/dev/null | awk -v link="socket:[$1]" '/:$/ { dir = $0 } $NF == link { print dir; exit }')
  pid=\${pid#/proc/}
  pid=\${pid%/fd:}
  [ -n "$pid" ] || return 0
  printf 'pid %s, %s' "$pid" "$(cat "/proc/$pid/comm" 2>/dev/null)"
}
explain_start_failure() {
  found=0
  interfaces=$(postconf -c "$config_dir" -h inet_interfaces 2>/dev/null) || interfaces=all
  unprivileged=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start 2>/dev/null) || unprivileged=1024
  cap_eff=$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status 2>/dev/null)
  for listener in $(postconf -c "$config_dir" -M '*/inet' 2>/dev/null | awk '{ print $1 }'); do
    case $listener in
    *:*) port=\${listener##*:} ;;
    *)
      port=$listener
      listener="port $listener of inet_interfaces ($interfaces)"
      ;;
    esac
    case $port in
    *[!0-9]*) port=$(awk -v name="$port" '$1 == name && $2 ~ /\\/tcp$/ { sub(/\\/tcp$/, "", $2); print $2; exit }' /etc/services 2>/dev/null) ;;
    esac
    [ -n "$port" ] || continue
    if [ "$port" -lt "$unprivileged" ] && [ -n "$cap_eff" ] && [ "$((0x$cap_eff >> 10 & 1))" = 0 ]; then
      say "cause: Postfix cannot listen on $listener: port $port is below net.ipv4.ip_unprivileged_port_start ($unprivileged) and this container lacks the NET_BIND_SERVICE capability (securityContext.capabilities.add of the postfix container)"
      found=1
    fi
    holders=$(port_listeners "$port")
    if [ -n "$holders" ]; then
      printf '%s\\n' "$holders" | while IFS= read -r holder; do
        say "cause: Postfix cannot listen on $listener: port $port is already in use by $holder"
      done
      found=1
    fi
  done
  if [ "$found" = 0 ]; then
    say "no listener of master.cf is taken or lacks NET_BIND_SERVICE: see Postfix' messages above"
  fi
  say "docs/TROUBLESHOOTING.md: \\"The container exits at start-up\\""
}
${saslEntrypointFunctions(env)}
config_dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd) || die "cannot find the directory of $0"
# A ConfigMap volume holds each key as a symlink into ..data/, and \`postfix check\` warns about
# every such link ("symlink leaves directory"): run Postfix on ..data itself, the same files.
if [ -d "$config_dir/..data" ]; then
  config_dir="$config_dir/..data"
fi
# Run on a private copy: the kubelet swaps a mounted ConfigMap in every running pod about a
# minute after an apply, and new Postfix daemons would read the new main.cf at once, in every
# replica, before the rolling update (driven by the config checksum) has checked it in one pod.
snapshot=$(mktemp -d -t postfix-config.XXXXXX) || die "cannot create a directory for the configuration copy"
cp "$config_dir/main.cf" "$config_dir/master.cf" "$snapshot/" || die "cannot copy the configuration from $config_dir"
chmod 0755 "$snapshot" || die "cannot set the mode of $snapshot"
chmod 0644 "$snapshot/main.cf" "$snapshot/master.cf" || die "cannot set the modes of the files in $snapshot"
say "running the configuration of $config_dir as loaded at start (copy in $snapshot)"
config_dir=$snapshot
# Every postfix command and daemon started below reads this directory, never /etc/postfix.
MAIL_CONFIG=$config_dir
export MAIL_CONFIG

# 0. \`postfix\` prints fatal configuration errors only to a terminal. postconf -M (master.cf
# syntax) and postmap (a harmless lookup that reads every main.cf parameter the way the daemons
# do) print them on stderr, so a bad ConfigMap says what is wrong in \`kubectl logs\`.
postconf -c "$config_dir" -M >/dev/null ||
  die "$config_dir/master.cf cannot be parsed (see the message above): fix the renderer or the environment file"
postmap -c "$config_dir" -q entrypoint-probe 'inline:{entrypoint-probe=ok}' >/dev/null ||
  die "$config_dir/main.cf has an invalid parameter (see the message above): fix the environment file and re-render"

param() {
  postconf -c "$config_dir" -h "$1" || die "cannot read $1 from $config_dir/main.cf"
}
queue_dir=$(param queue_directory) || exit 1
data_dir=$(param data_directory) || exit 1
log_file=$(param maillog_file) || exit 1
mail_owner=$(param mail_owner) || exit 1
setgid_group=$(param setgid_group) || exit 1
log_dir=$(dirname -- "$log_file")
${saslEntrypointStart(env)}
# 1. Fresh emptyDirs are root-owned and world-writable; Postfix refuses group/other-writable
# queue directories. \`postfix check\` below creates the queue subdirectories with their owners.
mkdir -p "$queue_dir" "$data_dir" "$log_dir" || die "cannot create $queue_dir, $data_dir or $log_dir"
# Modes before owners: root may chmod what it owns without FOWNER.
[ -f "$log_file" ] || : >"$log_file" || die "cannot create $log_file"
chmod 0755 "$queue_dir" || die "cannot set the mode of $queue_dir"
chmod 0700 "$data_dir" || die "cannot set the mode of $data_dir"
chmod 0750 "$log_dir" || die "cannot set the mode of $log_dir"
chmod 0640 "$log_file" || die "cannot set the mode of $log_file"
chown root:root "$queue_dir" || die "cannot set the owner of $queue_dir"
# The preStop drain fills this table to refuse new mail; a restarted container accepts again
# (the kubelet runs preStop before a liveness restart too, and the emptyDir survives it).
# Created before data_dir goes to mail_owner (root needs no DAC_OVERRIDE for it then); printf,
# not ':', because a failed redirection of a special builtin would end the script silently.
printf '' >"$data_dir/${DRAIN_REFUSE_TABLE}" || die "cannot create $data_dir/${DRAIN_REFUSE_TABLE}"
chown "$mail_owner" "$data_dir/${DRAIN_REFUSE_TABLE}" "$data_dir" || die "cannot give $data_dir and its drain table to $mail_owner"
chown "root:$monitor_gid" "$log_dir" "$log_file" || die "cannot give $log_file to group $monitor_gid"

# A queue kept on a volume still has public/ in the monitor group from the last run (step 5):
# hand it back to Postfix' own group so the start-up checks stay quiet, and drop the old showq
# socket so that step 5 waits for the one the new master creates after those checks.
if [ -d "$queue_dir/public" ]; then
  chgrp "$setgid_group" "$queue_dir/public" || die "cannot give $queue_dir/public back to $setgid_group"
  rm -f "$queue_dir/public/showq"
fi

# 2. Postfix writes its log only to the file (the exporter parses it); mirror it to stdout.
tail -n 0 -F "$log_file" 2>/dev/null &
tail_pid=$!

# 3. Fail fast: a configuration Postfix rejects must not become a pod that looks alive.
if ! postfix -c "$config_dir" check; then
  sleep 1
  die "\\\`postfix -c $config_dir check\\\` failed (its messages are above): fix the environment file and re-render"
fi

# 4. Foreground master. Not exec'd: this shell stays PID 1 to forward SIGTERM as \`postfix stop\`,
# stream the log and rotate it. From here until the master serves, a SIGTERM only sets the flag.
phase=starting
postfix -c "$config_dir" start-fg &
master_job=$!

# 5. showq (mode 0666) lives in <queue>/public (mode 0710). Give that directory to the monitor
# group once the master has created its sockets. The master binds the SMTP listener (the first
# line of master.cf) before it creates showq: showq also says that the listener is bound.
tries=0
until [ -S "$queue_dir/public/showq" ] || [ "$tries" -ge 300 ] || ! kill -0 "$master_job" 2>/dev/null; do
  sleep 0.1 2>/dev/null || sleep 1
  tries=$((tries + 1))
done
if [ -S "$queue_dir/public/showq" ] && kill -0 "$master_job" 2>/dev/null; then
  serving=1
  if ! { chgrp "$monitor_gid" "$queue_dir/public" && chmod 0710 "$queue_dir/public"; }; then
    say "cannot give $queue_dir/public to group $monitor_gid: the exporter will not see the queue"
  fi
fi

# 6. Rotation${env.relay.auth ? ' (and 7, the watch on the relay credentials)' : ''}: rename, recreate with the monitor group, and reload so postlogd reopens the file.
# One background loop. On SIGTERM it stops at its next step and starts nothing more; the main
# shell waits for it before \`postfix stop\` (stop_loop). Started while a SIGTERM only sets the
# flag, so it always has a pid to stop.
if kill -0 "$master_job" 2>/dev/null; then
  (
    stop=0
    sleep_pid=''
    # shellcheck disable=SC2317 # run by the trap
    trap 'stop=1; if [ -n "$sleep_pid" ]; then kill "$sleep_pid" 2>/dev/null; fi' TERM
    # True while the loop may act on Postfix: not asked to stop, and the master still runs.
    may_act() { [ "$stop" = 0 ] && kill -0 "$master_job" 2>/dev/null; }
    while [ "$stop" = 0 ]; do
      sleep "$rotate_check_seconds" &
      sleep_pid=$!
      if [ "$stop" = 0 ]; then wait "$sleep_pid"; fi
      if [ "$stop" = 1 ]; then
        kill "$sleep_pid" 2>/dev/null
        break
      fi
      sleep_pid=''
      may_act || continue${indentLines(saslEntrypointWatch(env), '  ')}
      may_act || continue
      size=$(wc -c <"$log_file" 2>/dev/null) || continue
      if [ "$size" -ge "$rotate_bytes" ]; then
        mv -f "$log_file" "$log_file.1" &&
          : >"$log_file" &&
          chown "root:$monitor_gid" "$log_file" &&
          chmod 0640 "$log_file" &&
          may_act &&
          postfix -c "$config_dir" reload >/dev/null 2>&1
      fi
    done
    exit 0
  ) &
  loop_pid=$!
fi
phase=running
# A SIGTERM that came while the master started: stop now that it serves (or has exited).
if [ "$stop_requested" = 1 ]; then stop_postfix; fi

status=0
while :; do
  wait "$master_job"
  status=$?
  kill -0 "$master_job" 2>/dev/null || break
done
phase=exited
stop_loop
sleep 1
if [ "$stopping" = 1 ]; then
  cleanup
  say "Postfix stopped"
  exit 0
fi
if [ "$serving" = 0 ]; then
  say "the Postfix master exited during start-up (status $status)"
  explain_start_failure
else
  say "the Postfix master exited unexpectedly (status $status)"
fi
cleanup
say "exiting so that Kubernetes restarts the container"
exit 1
`;
}
