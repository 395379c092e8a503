import type { EnvironmentConfig } from '../config/schema';
import { AUTH_FILES, PATHS } from './layout';
import type { MainCfEntry } from './main-cf';

/** The SASL table as main.cf names it; the entrypoint writes the file this points at. */
export const SASL_PASSWORD_MAPS = `texthash:${PATHS.saslTable}`;

/**
 * main.cf for SMTP AUTH to the relay (relay.auth). No credentials here: only the table that the
 * entrypoint builds from the Secret volume at start (and again when the Secret changes).
 */
export function saslEntries(env: EnvironmentConfig): MainCfEntry[] {
  if (!env.relay.auth) return [];
  return [
    ['smtp_sasl_auth_enable', 'yes', `relay.auth: log in to the relay with the credentials of Secret "${env.relay.auth.secretName}".`],
    [
      'smtp_sasl_password_maps',
      SASL_PASSWORD_MAPS,
      'Written by entrypoint.sh from the Secret volume into a memory-backed volume (mode 0600); texthash: needs no postmap.',
    ],
    [
      'smtp_sasl_security_options',
      'noplaintext, noanonymous',
      'Outside TLS no mechanism is allowed (PLAIN and LOGIN are plaintext): with the verified TLS the schema requires this never applies, but the password still cannot leave in clear if TLS were ever off.',
    ],
    ['smtp_sasl_tls_security_options', 'noanonymous', 'Inside verified TLS, PLAIN and LOGIN are allowed (what smtp-relay.gmail.com offers).'],
    ['smtp_sasl_mechanism_filter', 'plain, login', 'Only PLAIN and LOGIN, whatever else the relay offers.'],
    [
      'smtp_sasl_auth_soft_bounce',
      'yes',
      'A refused login (535 5.7.8) is our problem, not the message\'s: the mail stays queued (4.7.8) until the credentials are fixed.',
    ],
  ];
}

/**
 * The entrypoint's part of relay.auth, as POSIX sh functions and start-up lines: read the two
 * mounted files, check them, write `<relayhost> <user>:<password>` to the SASL table (mode 0600,
 * atomically), and remember a checksum so the watch loop notices a rotated Secret. Nothing here
 * prints the credentials: only file names and what is wrong with them.
 */
export function saslEntrypointFunctions(env: EnvironmentConfig): string {
  if (!env.relay.auth) return '';
  const { secretName, usernameKey, passwordKey } = env.relay.auth;
  return `
# relay.auth: SMTP AUTH to the relay. The credentials come from Secret "${secretName}" (keys
# "${usernameKey}" and "${passwordKey}"), mounted read-only at $auth_dir; never from environment
# variables. The SASL table lives in a memory-backed volume, root-only, keyed by relayhost.
auth_dir=${PATHS.authDir}
auth_sum=''
# A checksum of the mounted credentials (to notice a rotated Secret), never the credentials.
auth_checksum() {
  cat -- "$auth_dir/${AUTH_FILES.username}" "$auth_dir/${AUTH_FILES.password}" 2>/dev/null | sha256sum
}
# Writes the SASL table from the mounted Secret; on a problem says what is wrong (not the value)
# and returns 1, leaving any previous table in place.
build_sasl_table() {
  for f in ${AUTH_FILES.username} ${AUTH_FILES.password}; do
    if [ ! -r "$auth_dir/$f" ]; then
      say "relay.auth: $auth_dir/$f is missing: Secret \\"${secretName}\\" needs the keys \\"${usernameKey}\\" and \\"${passwordKey}\\""
      return 1
    fi
  done
  # $(...) drops trailing newlines, so a value written with echo still works.
  sasl_user=$(cat -- "$auth_dir/${AUTH_FILES.username}") || return 1
  sasl_pass=$(cat -- "$auth_dir/${AUTH_FILES.password}") || return 1
  case $sasl_user in
  '' | *[[:space:]:]*)
    say "relay.auth: the user name (key \\"${usernameKey}\\") is empty or holds white space or a colon"
    return 1
    ;;
  esac
  case $sasl_pass in
  '' | [[:space:]]* | *[[:space:]] | *"$newline"*)
    say "relay.auth: the password (key \\"${passwordKey}\\") is empty, spans lines or starts or ends with white space"
    return 1
    ;;
  esac
  (
    umask 077
    # printf is a shell builtin: the password never appears in a process' command line.
    printf '%s %s:%s\\n' "$sasl_relayhost" "$sasl_user" "$sasl_pass" >"$sasl_table.new"
  ) || {
    say "relay.auth: cannot write $sasl_table.new"
    return 1
  }
  if ! { chmod 0600 "$sasl_table.new" && mv -f "$sasl_table.new" "$sasl_table"; }; then
    say "relay.auth: cannot install $sasl_table"
    return 1
  fi
  sasl_user=''
  sasl_pass=''
}
`;
}

/** Start-up lines (after `param` exists): find the table, build it, or stop the container. */
export function saslEntrypointStart(env: EnvironmentConfig): string {
  if (!env.relay.auth) return '';
  return `
# 1b. relay.auth: build the SASL table before Postfix starts; without credentials, stop here.
newline='
'
sasl_maps=$(param smtp_sasl_password_maps) || exit 1
case $sasl_maps in
texthash:/*) sasl_table=\${sasl_maps#texthash:} ;;
*) die "smtp_sasl_password_maps must be a texthash: table with an absolute path" ;;
esac
sasl_relayhost=$(param relayhost) || exit 1
if ! { mkdir -p "$(dirname -- "$sasl_table")" && chmod 0700 "$(dirname -- "$sasl_table")"; }; then
  die "cannot prepare the directory of $sasl_table"
fi
auth_sum=$(auth_checksum)
build_sasl_table || die "relay.auth: no usable credentials in $auth_dir (see above)"
say "relay.auth: SASL table $sasl_table written from $auth_dir"
`;
}

/**
 * Lines for the watch loop (every few seconds): the kubelet swaps a mounted Secret's files
 * (atomically) about a minute after the Secret changes. Then rebuild the table, reload Postfix so
 * new smtp processes read it, and retry deferred mail at once (mail held by a refused login).
 */
export function saslEntrypointWatch(env: EnvironmentConfig): string {
  if (!env.relay.auth) return '';
  return `
    now_sum=$(auth_checksum)
    if [ "$now_sum" != "$auth_sum" ]; then
      auth_sum=$now_sum
      if build_sasl_table; then
        say "relay.auth: the credentials in $auth_dir changed: SASL table rebuilt, reloading Postfix and retrying deferred mail"
        postfix -c "$config_dir" reload >/dev/null 2>&1 || say "relay.auth: postfix reload failed"
        postqueue -c "$config_dir" -f || say "relay.auth: postqueue -f failed"
      else
        say "relay.auth: the changed credentials in $auth_dir are not usable (see above): still using the previous ones"
      fi
    fi`;
}
