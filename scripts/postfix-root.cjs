#!/usr/bin/env node
// The Postfix the relay image runs (3.10: the image is FROM alpine:3.23) for the integration
// tests, on a Debian 12 machine whose own Postfix is 3.7: a Debian 13 ("trixie") root made by
// debootstrap from Debian's package registry, with one wrapper per Postfix command that runs the
// root's binary. Built once into node_modules/.cache/postfix-root/<recipe hash>/ (about 35-80 s,
// 280 MB), atomically: a build goes to a temporary sibling and is renamed into place only when
// complete and checked, so an interrupted build is never taken for a good one. A changed recipe
// (suite, packages, mirror, this script's layout version, the host's postfix/postdrop ids) has a
// new hash: it is rebuilt, and the old roots are removed.
//
//   node scripts/postfix-root.cjs          builds it if needed; prints the wrappers' directory
//   node scripts/postfix-root.cjs --status prints the wrappers' directory, or why there is none
//   require('./postfix-root.cjs').ensurePostfixRoot() / .postfixRootStatus()
//
// The wrappers (<dir>/bin/postfix, postconf, postqueue, postsuper, postmap, ...) go first in PATH:
//   unshare --mount   a private mount namespace per call, so nothing is ever mounted on the host
//                     (it goes away with the last process of the call: the master, for start-fg);
//   mount --bind      /tmp and $TMPDIR at the same paths inside the root, so the test's
//                     configuration, queue, log and CA files have the same absolute paths there;
//   chroot            the root's /usr/sbin/<name>, with the caller's arguments and environment
//                     (under a reduced bounding set when the caller asks: ENTRY_CAPABILITIES).
// No fork anywhere (unshare, sh and chroot exec): the pid the caller sees is Postfix', so the
// harness stops, signals and waits for it (and its children) as on the host.
// The root's postfix user and postfix/postdrop groups get the host's ids, so files the host
// side creates for Postfix (entrypoint.sh's chown postfix) and files Postfix creates agree.
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const { dirname, join } = require('node:path');

/** What the root is made of. Changing anything here rebuilds it. */
const RECIPE = {
  layout: 3, // bump when the preparation below changes
  suite: 'trixie',
  variant: 'minbase',
  include: ['postfix', 'busybox', 'ca-certificates', 'libsasl2-modules'],
  mirror: 'http://deb.debian.org/debian',
  expectVersion: /^3\.10\./,
};

/** The commands the tests and the rendered scripts run by name. */
const COMMANDS = ['postfix', 'postconf', 'postqueue', 'postsuper', 'postmap', 'postcat', 'postdrop', 'postlog', 'sendmail', 'posttls-finger'];

/** Ids the root's Postfix accounts must share with the host. */
const ACCOUNTS = [
  { kind: 'passwd', name: 'postfix' },
  { kind: 'group', name: 'postfix' },
  { kind: 'group', name: 'postdrop' },
];

/** The checkout: the nearest folder up from here whose package.json is this project's (bundles live elsewhere). */
function projectRoot() {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      if (JSON.parse(fs.readFileSync(join(dir, 'package.json'), 'utf8')).name === 'email-server') return dir;
    } catch {
      // no package.json here
    }
    if (dirname(dir) === dir) return join(__dirname, '..');
  }
}

const ROOT = projectRoot();
const CACHE = join(ROOT, 'node_modules', '.cache', 'postfix-root');
const FAILURE_FILE = join(CACHE, 'last-failure.txt');

function hostId(kind, name) {
  const line = fs
    .readFileSync(`/etc/${kind}`, 'utf8')
    .split('\n')
    .find((l) => l.split(':')[0] === name);
  if (!line) throw new Error(`the host has no ${kind === 'passwd' ? 'user' : 'group'} "${name}" (install Debian's postfix package: apt-get install -y postfix)`);
  return Number(line.split(':')[2]);
}

/** The recipe and the host ids it is aligned to, and its hash (the cache key). */
function recipe() {
  const ids = Object.fromEntries(ACCOUNTS.map((a) => [`${a.kind}:${a.name}`, hostId(a.kind, a.name)]));
  const full = { ...RECIPE, expectVersion: String(RECIPE.expectVersion), commands: COMMANDS, hostIds: ids };
  const hash = createHash('sha256').update(JSON.stringify(full)).digest('hex').slice(0, 16);
  return { full, hash, ids };
}

/** Paths of the root for the current recipe. */
function paths() {
  const { hash } = recipe();
  const dir = join(CACHE, hash);
  return { dir, root: join(dir, 'root'), bin: join(dir, 'bin'), info: join(dir, 'recipe.json') };
}

/**
 * { ok: true, bin, root, version } when the root of the current recipe is built; otherwise
 * { ok: false, reason } (the last build's failure if there was one).
 */
function postfixRootStatus() {
  let p;
  try {
    p = paths();
  } catch (err) {
    return { ok: false, reason: err.message };
  }
  if (fs.existsSync(p.info)) {
    const info = JSON.parse(fs.readFileSync(p.info, 'utf8'));
    return { ok: true, bin: p.bin, root: p.root, version: info.postfixVersion, dir: p.dir };
  }
  const failure = fs.existsSync(FAILURE_FILE) ? fs.readFileSync(FAILURE_FILE, 'utf8').trim() : '';
  return { ok: false, reason: failure || `not built yet (node scripts/postfix-root.cjs builds it into ${p.dir})` };
}

/** Every mount point of this mount namespace at or under `dir`. */
function mountsUnder(dir) {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
}

/** rm -rf that never crosses into a mount (a leaked bind mount of /tmp would empty /tmp). */
function removeTree(dir) {
  const mounts = mountsUnder(dir);
  if (mounts.length) throw new Error(`refusing to remove ${dir}: mounted inside it: ${mounts.join(', ')}`);
  execFileSync('rm', ['-rf', '--one-file-system', dir]);
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Removes roots of other recipes and builds abandoned by dead processes. */
function removeStale(keep) {
  if (!fs.existsSync(CACHE)) return;
  for (const entry of fs.readdirSync(CACHE)) {
    const full = join(CACHE, entry);
    const build = /^\.build-(\d+)-/.exec(entry);
    if (build ? !isAlive(Number(build[1])) : /^[0-9a-f]{16}$/.test(entry) && full !== keep) removeTree(full);
  }
}

/** Gives the root's accounts the host's ids (swapping with any root account that had them). */
function alignIds(root, ids) {
  const maps = { passwd: new Map(), group: new Map() };
  for (const kind of ['passwd', 'group']) {
    const file = join(root, 'etc', kind);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const wanted = ACCOUNTS.filter((a) => a.kind === kind);
    for (const { name } of wanted) {
      const want = ids[`${kind}:${name}`];
      const mine = lines.findIndex((l) => l.split(':')[0] === name);
      if (mine < 0) throw new Error(`the root has no ${kind} entry "${name}"`);
      const fields = lines[mine].split(':');
      const had = Number(fields[2]);
      if (had === want) continue;
      const other = lines.findIndex((l) => l && Number(l.split(':')[2]) === want);
      if (other >= 0) {
        const o = lines[other].split(':');
        o[2] = String(had);
        lines[other] = o.join(':');
        maps[kind].set(want, had);
      }
      fields[2] = String(want);
      lines[mine] = fields.join(':');
      maps[kind].set(had, want);
    }
    // The user's primary group follows its group.
    if (kind === 'group') {
      const pw = join(root, 'etc', 'passwd');
      const users = fs.readFileSync(pw, 'utf8').split('\n');
      const fixed = users.map((l) => {
        const f = l.split(':');
        if (f.length < 4 || !maps.group.has(Number(f[3]))) return l;
        f[3] = String(maps.group.get(Number(f[3])));
        return f.join(':');
      });
      fs.writeFileSync(pw, fixed.join('\n'));
    }
    fs.writeFileSync(file, lines.join('\n'));
  }
  // Files that belonged to a moved id follow it (one pass, so swaps stay swaps).
  const out = execFileSync('find', [root, '-xdev', '-printf', '%U %G %p\\0'], { maxBuffer: 256 * 1024 * 1024 }).toString();
  for (const rec of out.split('\0')) {
    if (!rec) continue;
    const [u, g] = rec.split(' ', 2).map(Number);
    const path = rec.slice(rec.indexOf(' ', rec.indexOf(' ') + 1) + 1);
    const nu = maps.passwd.get(u);
    const ng = maps.group.get(g);
    if (nu === undefined && ng === undefined) continue;
    const mode = fs.lstatSync(path).mode;
    fs.lchownSync(path, nu ?? u, ng ?? g);
    // chown clears set-id bits: restore them (postdrop and postqueue are set-gid postdrop).
    if (!fs.lstatSync(path).isSymbolicLink() && (mode & 0o6000)) fs.chmodSync(path, mode & 0o7777);
  }
  // Debian's own recipe for these two, whatever the package left.
  for (const name of ['postdrop', 'postqueue']) {
    const path = join(root, 'usr', 'sbin', name);
    fs.chownSync(path, 0, ids['group:postdrop']);
    fs.chmodSync(path, 0o2555);
  }
}

/**
 * Capabilities the wrappers need to enter the root (unshare + mount, chroot, and setpriv's drop). A caller that runs
 * Postfix under a reduced bounding set (the harness' `capabilities`, as Kubernetes' drop: [ALL])
 * keeps these two as well and names in DROP_ENV the ones Postfix must not have: the wrapper drops
 * them from the bounding set inside the root (setpriv) just before it execs Postfix.
 */
const ENTRY_CAPABILITIES = ['SYS_ADMIN', 'SYS_CHROOT', 'SETPCAP'];
const DROP_ENV = 'POSTFIX_ROOT_DROP_BOUNDING';

function wrapper(name, root) {
  return `#!/bin/sh
# ${name} of the Postfix 3.10 test root (Debian 13): written by scripts/postfix-root.cjs.
# A private mount namespace per call (nothing is mounted on the host), /tmp and $TMPDIR
# bind-mounted at the same paths inside the root, then the root's /usr/sbin/${name}, with the
# capabilities named in $${DROP_ENV} (e.g. -sys_admin,-sys_chroot) dropped from the bounding
# set first (setpriv reads /proc: mounted then, in the same private namespace). No fork: the
# caller's pid is Postfix' own.
exec unshare --mount --propagation private /bin/sh -c '
root=$1
shift
mount --bind /tmp "$root/tmp" || exit 75
case \${TMPDIR:-/tmp} in
  /tmp | /tmp/*) ;;
  *) { mkdir -p "$root$TMPDIR" && mount --bind "$TMPDIR" "$root$TMPDIR"; } || exit 75 ;;
esac
if [ -n "\${${DROP_ENV}:-}" ]; then
  mount -t proc proc "$root/proc" || exit 75
  exec chroot "$root" /usr/bin/setpriv --bounding-set "$${DROP_ENV}" -- /usr/sbin/${name} "$@"
fi
exec chroot "$root" /usr/sbin/${name} "$@"
' sh '${root}' "$@"
`;
}

/** (Re)writes the wrappers when they differ from this script's (each file atomically). */
function writeWrappers(bin, root) {
  fs.mkdirSync(bin, { recursive: true });
  for (const name of COMMANDS) {
    const path = join(bin, name);
    const text = wrapper(name, root);
    if (fs.existsSync(path) && fs.readFileSync(path, 'utf8') === text) continue;
    const tmp = `${path}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text, { mode: 0o755 });
    fs.renameSync(tmp, path);
  }
}

/** Runs debootstrap in a private mount namespace (its /proc and /sys mounts never outlive it). */
function debootstrap(target, log) {
  const args = ['--mount', '--propagation', 'private', 'debootstrap', `--variant=${RECIPE.variant}`, `--include=${RECIPE.include.join(',')}`, RECIPE.suite, target, RECIPE.mirror];
  const fd = fs.openSync(log, 'w');
  try {
    const r = spawnSync('unshare', args, { stdio: ['ignore', fd, fd], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' } });
    if (r.error) throw new Error(`cannot run unshare/debootstrap: ${r.error.message} (apt-get install -y debootstrap util-linux)`);
    if (r.status !== 0) {
      const tail = fs.readFileSync(log, 'utf8').trim().split('\n').slice(-15).join('\n');
      throw new Error(`debootstrap ${RECIPE.suite} failed (exit ${r.status}); the end of its log:\n${tail}`);
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Builds the root of the current recipe unless it is there; returns postfixRootStatus(). Throws
 * with the reason (also written to last-failure.txt for the test workers) when it cannot.
 */
function ensurePostfixRoot({ log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const before = postfixRootStatus();
  if (before.ok) {
    writeWrappers(before.bin, before.root);
    return before;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw recordFailure(new Error('building the Postfix 3.10 root needs root (debootstrap, chroot, mount namespaces)'));
  }
  const { full, ids } = recipe();
  const p = paths();
  fs.mkdirSync(CACHE, { recursive: true });
  removeStale(p.dir);
  const build = join(CACHE, `.build-${process.pid}-${Date.now()}`);
  const root = join(build, 'root');
  fs.mkdirSync(root, { recursive: true });
  const started = Date.now();
  try {
    log(`postfix-root: debootstrap ${RECIPE.suite} (${RECIPE.include.join(', ')}) into ${build} (35-80 s)...`);
    debootstrap(root, join(build, 'debootstrap.log'));
    alignIds(root, ids);
    writeWrappers(join(build, 'bin'), p.root);
    // The proof that this is the generation we want, from the root's own postconf.
    const version = execFileSync('chroot', [root, '/usr/sbin/postconf', '-h', 'mail_version'], { encoding: 'utf8' }).trim();
    if (!RECIPE.expectVersion.test(version)) throw new Error(`the ${RECIPE.suite} root has Postfix ${version}, expected ${RECIPE.expectVersion}`);
    fs.writeFileSync(join(build, 'recipe.json'), `${JSON.stringify({ ...full, postfixVersion: version, builtAt: new Date().toISOString(), seconds: (Date.now() - started) / 1000 }, null, 2)}\n`);
    try {
      fs.renameSync(build, p.dir);
    } catch (err) {
      // Another run finished the same recipe first: keep its root.
      if (!postfixRootStatus().ok) throw err;
      removeTree(build);
    }
    fs.rmSync(FAILURE_FILE, { force: true });
    log(`postfix-root: Postfix ${version} ready in ${((Date.now() - started) / 1000).toFixed(0)} s at ${p.root}`);
    return postfixRootStatus();
  } catch (err) {
    try {
      removeTree(build);
    } catch {
      // leave it; removeStale() takes it once this process is gone
    }
    throw recordFailure(err);
  }
}

function recordFailure(err) {
  try {
    fs.mkdirSync(CACHE, { recursive: true });
    fs.writeFileSync(FAILURE_FILE, `${err.message}\n`);
  } catch {
    // the message still reaches the caller
  }
  return err;
}

module.exports = { ensurePostfixRoot, postfixRootStatus, alignIds, wrapper, COMMANDS, RECIPE, ENTRY_CAPABILITIES, DROP_ENV };

if (require.main === module) {
  try {
    const status = process.argv[2] === '--status' ? postfixRootStatus() : ensurePostfixRoot();
    if (!status.ok) throw new Error(status.reason);
    process.stdout.write(`${status.bin}\n`);
  } catch (err) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  }
}
