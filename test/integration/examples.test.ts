/**
 * The documentation runs: each example of docs/EMAIL-SERVER-USAGE.md (the files under docs/examples,
 * which the guide includes verbatim) sends through a real Postfix running the prod configuration to
 * the STARTTLS sink, and the SMTP facts that docs/EMAIL-SERVER-API.md states (EHLO reply, refusals)
 * are read from that same relay.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadEnvironmentFile } from '../../src/config/load';
import { requireTool, smtpConversation, tempDir, type PostfixInstance, type Sink } from './harness';
import { useRelay } from './harness/relay-fixture';
import { isCI } from '../ci';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'docs', 'examples');
const JAKARTA_JARS = ['/usr/share/java/jakarta-mail.jar', '/usr/share/java/jakarta-activation.jar'];

/** requireTool's rule for files that are not executables (the Jakarta Mail jars). */
function requireFiles(paths: readonly string[], debianPackages: string): boolean {
  const missing = paths.filter((p) => {
    try {
      accessSync(p, constants.R_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (!missing.length) return true;
  const install = `apt-get install -y --no-install-recommends ${debianPackages}`;
  if (isCI()) throw new Error(`required files ${missing.join(', ')} are missing (CI=true makes this a failure): ${install}`);
  console.warn(`\n*** SKIPPING: required files ${missing.join(', ')} are missing. Install them with: ${install}\n`);
  return false;
}

interface Example {
  readonly language: string;
  /** Distinguishes its message at the sink: the recipient's local part and the subject. */
  readonly id: string;
  readonly subject: string;
  readonly ready: () => boolean;
  readonly command: (tmp: string) => { file: string; args: string[]; cwd: string; env?: Record<string, string> };
  /** Runs once before the example, as the guide says (npm install). */
  readonly prepare?: (tmp: string) => Promise<void>;
}

/**
 * The Node example as a user runs it: `npm install` in its own folder, inside a copy of the
 * project's layout (package.json and lockfile at the root), from npm's cache. Returns the folder.
 */
const nodeExampleDir = (tmp: string) => join(tmp, 'repo', 'docs', 'examples', 'node');
async function installNodeExample(tmp: string): Promise<void> {
  const repo = join(tmp, 'repo');
  mkdirSync(join(repo, 'docs', 'examples'), { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(repo, f));
  cpSync(join(EXAMPLES, 'node'), nodeExampleDir(tmp), { recursive: true });
  const before = ['package.json', 'package-lock.json', 'docs/examples/node/package-lock.json'].map((f) => readFileSync(join(repo, f), 'utf8'));
  const run = await runExample({ file: 'npm', args: ['install', '--prefer-offline', '--no-audit', '--no-fund'], cwd: nodeExampleDir(tmp) }, {}, 120_000);
  expect(run.code, `npm install in docs/examples/node:\n${run.stderr}`).toBe(0);
  // The project's manifest and lockfile are untouched, and so is the example's own lockfile.
  const after = ['package.json', 'package-lock.json', 'docs/examples/node/package-lock.json'].map((f) => readFileSync(join(repo, f), 'utf8'));
  expect(after).toEqual(before);
  expect(existsSync(join(nodeExampleDir(tmp), 'node_modules', 'nodemailer', 'package.json'))).toBe(true);
  expect(existsSync(join(repo, 'node_modules'))).toBe(false);
}

const EXAMPLE_LIST: readonly Example[] = [
  {
    language: 'Python (smtplib)',
    id: 'python',
    subject: 'Relay test from the Python example',
    ready: () => requireTool('python3', 'python3'),
    command: () => ({ file: 'python3', args: ['send.py'], cwd: join(EXAMPLES, 'python') }),
  },
  {
    language: 'Node.js (nodemailer)',
    id: 'node',
    subject: 'Relay test from the Node.js example',
    ready: () => true,
    // From its own installed copy (nodemailer from that folder's node_modules, not the project's).
    prepare: installNodeExample,
    command: (tmp) => ({ file: process.execPath, args: ['send.mjs'], cwd: nodeExampleDir(tmp) }),
  },
  {
    language: 'Java (Jakarta Mail)',
    id: 'java',
    subject: 'Relay test from the Java example',
    ready: () => requireTool('java', 'default-jdk-headless') && requireFiles(JAKARTA_JARS, 'libjakarta-mail-java libjakarta-activation-java'),
    command: () => ({ file: 'java', args: ['-cp', JAKARTA_JARS.join(':'), 'Send.java'], cwd: join(EXAMPLES, 'java') }),
  },
  {
    language: 'Go (net/smtp)',
    id: 'go',
    subject: 'Relay test from the Go example',
    ready: () => requireTool('go', 'golang-go'),
    // Its own go.mod, standard library only: offline, no module download, a private build cache.
    command: (tmp) => ({
      file: 'go',
      args: ['run', '.'],
      cwd: join(EXAMPLES, 'go'),
      env: { GOCACHE: join(tmp, 'gocache'), GOPATH: join(tmp, 'gopath'), GOTOOLCHAIN: 'local', GOPROXY: 'off', GOFLAGS: '', GOENV: 'off' },
    }),
  },
];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs an example in its own process group; the whole group is killed on timeout. */
function runExample(cmd: ReturnType<Example['command']>, env: Record<string, string>, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd.file, cmd.args, {
      cwd: cmd.cwd,
      env: { ...process.env, ...cmd.env, ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      reject(new Error(`${cmd.file} ${cmd.args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const postfixReady = requireTool('postfix', 'postfix') && requireTool('openssl', 'openssl');

describe.skipIf(!postfixReady)('documentation examples against the real relay (prod configuration)', () => {
  let sink: Sink;
  let pf: PostfixInstance;
  let tmp: string;
  beforeAll(() => {
    tmp = tempDir('docs-examples-');
  });
  useRelay(loadEnvironmentFile(join(ROOT, 'environments/prod.yaml')), {}, (r) => ({ sink, pf } = r));

  for (const ex of EXAMPLE_LIST) {
    describe(ex.language, () => {
      const ready = ex.ready();
      beforeAll(async () => {
        if (ready && ex.prepare) await ex.prepare(tmp);
      }, 150_000);

      it.skipIf(!ready)('sends one message that reaches the relay over verified TLS', async () => {
        const to = `${ex.id}@example.com`;
        const run = await runExample(ex.command(tmp), {
          SMTP_HOST: pf.host,
          SMTP_PORT: String(pf.port),
          MAIL_FROM: `${ex.id}-app@bionicaisolutions.com`,
          MAIL_TO: to,
        });
        expect(run.code, `exit code; stderr:\n${run.stderr}`).toBe(0);
        expect(run.stdout).toContain(`for ${to}`);

        const message = await waitForRecipient(sink, to).catch((err: Error) => {
          throw new Error(`${err.message}\nPostfix log:\n${pf.log().slice(-3000)}`);
        });
        expect(message.mailFrom).toBe(`${ex.id}-app@bionicaisolutions.com`);
        expect(message.tls).toBe(true);
        expect(message.helo).toBe('mail.bionicaisolutions.com');
        expect(message.headers.find(([name]) => name === 'subject')?.[1]).toBe(ex.subject);
        // Every example sends a Message-ID of its own, in the sender's domain.
        expect(message.headers.find(([name]) => name === 'message-id')?.[1]).toMatch(/^<[^<>@\s]+@bionicaisolutions\.com>$/);
      });

      it.skipIf(!ready)('exits non-zero when the relay refuses the message', async () => {
        const run = await runExample(ex.command(tmp), {
          SMTP_HOST: pf.host,
          SMTP_PORT: String(pf.port),
          MAIL_FROM: `${ex.id}-app@not-allowed.example`,
          MAIL_TO: `${ex.id}-refused@example.com`,
        });
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(/send failed/);
        expect(run.stderr).toMatch(/Sender domain not allowed|554/);
      });
    });
  }

  describe('docs/EMAIL-SERVER-API.md states what this relay answers', () => {
    const api = readFileSync(join(ROOT, 'docs/EMAIL-SERVER-API.md'), 'utf8');

    it('the EHLO reply shown is the real one', async () => {
      const [greeting, ehlo] = await smtpConversation(pf.port, ['EHLO client.example', 'QUIT']);
      expect(api).toContain(`\`${greeting!.text}\``);
      const shown = /The EHLO reply[^\n]*\n\n```\n([\s\S]*?)```/.exec(api)?.[1];
      expect(shown).toBe(`${ehlo!.text}\n`);
    });

    const refusals: { what: string; commands: string[]; expectIn: (replies: string[]) => string }[] = [
      { what: 'VRFY', commands: ['EHLO c.example', 'VRFY root'], expectIn: (r) => r[2]! },
      { what: 'AUTH', commands: ['EHLO c.example', 'AUTH PLAIN AGFhAGI='], expectIn: (r) => r[2]! },
      {
        what: 'a sender domain that is not allowed',
        commands: ['EHLO c.example', 'MAIL FROM:<a@not-allowed.example>', 'RCPT TO:<x@example.com>'],
        expectIn: (r) => r[3]!,
      },
      { what: 'the null sender', commands: ['EHLO c.example', 'MAIL FROM:<>', 'RCPT TO:<x@example.com>'], expectIn: (r) => r[3]! },
      {
        what: 'a sender without a domain',
        commands: ['EHLO c.example', 'MAIL FROM:<app>', 'RCPT TO:<x@example.com>'],
        expectIn: (r) => r[3]!,
      },
      {
        what: 'a declared size above the limit',
        commands: ['EHLO c.example', 'MAIL FROM:<a@bionicaisolutions.com> SIZE=30000000'],
        expectIn: (r) => r[2]!,
      },
      {
        what: 'the 101st recipient',
        commands: [
          'EHLO c.example',
          'MAIL FROM:<a@bionicaisolutions.com>',
          ...Array.from({ length: 101 }, (_, i) => `RCPT TO:<r${i}@example.com>`),
        ],
        expectIn: (r) => r[r.length - 1]!,
      },
    ];

    for (const { what, commands, expectIn } of refusals) {
      it(`the reply to ${what} is documented`, async () => {
        const replies = (await smtpConversation(pf.port, [...commands, 'QUIT'])).map((r) => r.text);
        const reply = expectIn(replies.slice(0, commands.length + 1));
        // Documented without the variable parts (addresses, the allowed-domain list).
        const documented = reply.replace(/<[^>]*>/g, '<').replace(/\s*\(allowed:.*\)$/, '');
        const normalise = (s: string) => s.replace(/<[^>`|]*>/g, '<');
        expect(normalise(api), `EMAIL-SERVER-API.md documents: ${reply}`).toContain(documented);
      });
    }
  });
});

async function waitForRecipient(sink: Sink, to: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = sink.messages.find((m) => m.rcptTo.includes(to));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`the sink received no message for ${to} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
