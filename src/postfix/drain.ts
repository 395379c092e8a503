import type { EnvironmentConfig } from '../config/schema';
import { PATHS } from './layout';

/**
 * The preStop drain (`drain.sh` in the postfix-config ConfigMap).
 *
 * Kubernetes runs it before it sends SIGTERM to the container, and stops routing new
 * connections to the pod at the same time. It:
 *  1. refuses new mail: writes a catch-all 421 entry into the refuse table that main.cf
 *     consults (DRAIN_REFUSE_RESTRICTION) and reloads Postfix;
 *  2. flushes the queue, and again every DRAIN_FLUSH_INTERVAL_SECONDS, until it is empty (but
 *     not before DRAIN_MIN_SECONDS) or the environment's drain deadline passes;
 *  3. logs what remains (count and queue ids) to the container's stdout and exits 0, so the
 *     container stops on time either way.
 *
 * Why a table read through proxymap: the config directory is a read-only ConfigMap (no
 * `postconf -e`), and `postfix stop` would stop delivery too. The table lives in
 * data_directory (an emptyDir the entrypoint empties at every start). smtpd reads it through
 * the proxymap service (`proxy:`), which Postfix restarts on reload, so the new content
 * reaches every smtpd at its next RCPT: new sessions and sessions that were already open (a
 * pooled client may stay connected for minutes). Nothing is killed: killing an smtpd in its
 * first session makes the master throttle the SMTP service for 60 s, and new connections then
 * hang without a greeting instead of getting a clear 421.
 */

/** File name of the refuse table, inside Postfix' data_directory. */
export const DRAIN_REFUSE_TABLE = 'drain-refuse.cidr';

/**
 * The smtpd restriction main.cf must list (in `smtpd_client_restrictions`) for the drain to
 * refuse new mail. `$data_directory` is expanded by Postfix, so a test instance that moves
 * data_directory moves the table with it. The default proxy_read_maps already allows every
 * `proxy:` table named in smtpd_client_restrictions.
 */
export const DRAIN_REFUSE_RESTRICTION = `check_client_access proxy:cidr:$data_directory/${DRAIN_REFUSE_TABLE}`;

/** Reply the refuse table gives: 421 makes smtpd disconnect, and the client retries elsewhere. */
export const DRAIN_REFUSE_REPLY = '421 4.3.2 Relay pod shutting down, try again';

/** Seconds between flushes while waiting: each flush retries deferred mail at once. */
export const DRAIN_FLUSH_INTERVAL_SECONDS = 10;

/**
 * The drain never returns earlier: a transaction already past RCPT when the refusal started
 * finishes its DATA and is queued (and flushed) before the drain can call the queue empty, and
 * the Service's endpoint removal has time to reach every node.
 */
export const DRAIN_MIN_SECONDS = 5;

/** Queue ids listed per log line, and at most this many lines of them. */
const IDS_PER_LINE = 20;
const MAX_ID_LINES = 50;

/** Single-quotes a value for POSIX sh. */
function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function renderDrainScript(env: EnvironmentConfig): string {
  const deadline = env.queue.drainDeadlineSeconds;
  const leftover = env.queue.persistence.enabled
    ? 'they stay on this pod\'s queue volume and are delivered when a pod with this volume runs again (docs/RELIABILITY.md)'
    : 'the queue is an emptyDir: they are LOST when the pod is deleted (docs/RELIABILITY.md)';

  return `#!/bin/sh
# preStop drain of the Postfix relay, rendered from environment "${env.name}" by src/postfix/drain.ts.
# Refuse new mail, flush, wait until the queue is empty or ${deadline} s have passed, log what is left.
# It always exits 0: Kubernetes kills the container at terminationGracePeriodSeconds anyway,
# and the drain must leave the master time to stop cleanly.
# POSTFIX_CONFIG_DIR and DRAIN_LOG exist for tests; in the pod the defaults apply.
set -u
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

config_dir="\${POSTFIX_CONFIG_DIR:-${PATHS.configDir}}"
log_target="\${DRAIN_LOG:-/proc/1/fd/1}"
deadline_seconds=${deadline}
min_seconds=${DRAIN_MIN_SECONDS}
flush_interval=${DRAIN_FLUSH_INTERVAL_SECONDS}
leftover_note=${shQuote(leftover)}

# The preStop hook's own output is discarded by the kubelet: write to PID 1's stdout so the
# lines reach \`kubectl logs\`; fall back to stderr where that is not writable.
log() {
  if ! printf 'postfix-drain: %s\\n' "$*" 2>/dev/null >>"$log_target"; then
    printf 'postfix-drain: %s\\n' "$*" >&2
  fi
}

started=$(date +%s)
ends=$((started + deadline_seconds))
elapsed() { echo $(($(date +%s) - started)); }

queue_dir=$(postconf -c "$config_dir" -h queue_directory 2>/dev/null) || queue_dir=${shQuote(PATHS.queueDir)}
data_dir=$(postconf -c "$config_dir" -h data_directory 2>/dev/null) || data_dir=${shQuote(PATHS.dataDir)}

# One line per queued message: "<queue name> <queue id>". showq answers while the master
# runs; without it the queue files themselves are listed (the file name is the queue id).
list_queue() {
  if json=$(postqueue -c "$config_dir" -j 2>/dev/null); then
    printf '%s\\n' "$json" | sed -n 's/.*"queue_name": *"\\([a-z]*\\)".*"queue_id": *"\\([0-9A-Za-z]*\\)".*/\\1 \\2/p'
  else
    for q in maildrop incoming active deferred hold; do
      [ -d "$queue_dir/$q" ] || continue
      find "$queue_dir/$q" -type f 2>/dev/null | sed "s|.*/|$q |"
    done
  fi
}

# Messages the drain waits for: everything except the hold queue, which only an operator releases.
count_pending() { list_queue | grep -vc '^hold ' ; }

# Logs what is still queued ("$1" says why the drain stops) and the queue ids.
report() {
  remaining=$(list_queue)
  if [ -z "$remaining" ]; then
    log "done after $(elapsed) s: the queue is empty, every accepted message was handed to the relay"
    return
  fi
  total=$(printf '%s\\n' "$remaining" | wc -l | tr -d ' ')
  held=$(printf '%s\\n' "$remaining" | grep -c '^hold ')
  if [ "$total" -eq "$held" ]; then
    log "$1: $total message(s) remain, all on hold (released only by an operator: postsuper -H)"
  else
    log "$1: $total message(s) remain ($held on hold); $leftover_note"
  fi
  printf '%s\\n' "$remaining" | awk -v per=${IDS_PER_LINE} -v max=${MAX_ID_LINES} '
    { ids = ids " " $2; n++ }
    n == per { if (++lines <= max) print "remaining:" ids; ids = ""; n = 0 }
    END {
      if (n > 0 && ++lines <= max) print "remaining:" ids
      if (lines > max) print "remaining: ... and " NR - max * per " more (postqueue -p lists them all)"
    }' | while IFS= read -r line; do log "$line"; done
}

log "draining: refusing new mail, flushing for at most \${deadline_seconds} s"

# A master that is not running delivers nothing: say what is left and let the container stop.
if ! postfix -c "$config_dir" status >/dev/null 2>&1; then
  report "Postfix is not running"
  exit 0
fi

# 1. Refuse new mail: from the reload on, every smtpd (new sessions and open ones alike) gets
# the 421 through proxymap at its next RCPT. A transaction already past RCPT completes.
refuse_table="$data_dir/${DRAIN_REFUSE_TABLE}"
reply=${shQuote(DRAIN_REFUSE_REPLY)}
# postfix check wants everything in data_directory owned by mail_owner; proxymap reads it as that user.
owner=$(postconf -c "$config_dir" -h mail_owner 2>/dev/null) || owner=postfix
if printf '0.0.0.0/0 %s\\n::/0 %s\\n' "$reply" "$reply" >"$refuse_table.new" \\
  && chown "$owner" "$refuse_table.new" \\
  && mv -f "$refuse_table.new" "$refuse_table"; then
  case $(postconf -c "$config_dir" -x -h smtpd_client_restrictions 2>/dev/null) in
    *"proxy:cidr:$refuse_table"*) ;;
    *) log "warning: main.cf does not consult proxy:cidr:$refuse_table: new mail is still accepted" ;;
  esac
else
  log "warning: cannot write $refuse_table: new mail is still accepted"
fi
postfix -c "$config_dir" reload >/dev/null 2>&1 || log "warning: postfix reload failed: new mail is still accepted"

# 2. Flush at once and again every flush_interval seconds: a flush retries deferred mail
# without waiting for its backoff and revives destinations marked dead.
postqueue -c "$config_dir" -f 2>/dev/null || log "warning: postqueue -f failed"
last_flush=$(date +%s)
while :; do
  now=$(date +%s)
  pending=$(count_pending)
  [ "$pending" -eq 0 ] && [ $((now - started)) -ge "$min_seconds" ] && break
  [ "$now" -ge "$ends" ] && break
  if [ $((now - last_flush)) -ge "$flush_interval" ]; then
    log "$pending message(s) still queued after $(elapsed) s: flushing again"
    postqueue -c "$config_dir" -f 2>/dev/null
    last_flush=$now
  fi
  sleep 1
done

# 3. Report.
if [ "$pending" -eq 0 ]; then
  report "done after $(elapsed) s"
else
  report "deadline of \${deadline_seconds} s reached"
fi
exit 0
`;
}
