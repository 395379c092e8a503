import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { PostfixInstance, QueueEntry } from '../harness';
import { sleep } from '../harness';
import { ATTEMPT_HEADER } from './generator';

const run = promisify(execFile);

/** The load generator's attempt id of a queued message, read from the queue file itself. */
export async function queuedAttempt(configDir: string, queueId: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('postcat', ['-c', configDir, '-h', '-q', queueId], { maxBuffer: 16 * 1024 * 1024 });
    return new RegExp(`^${ATTEMPT_HEADER}:[ \\t]*(\\S+)`, 'im').exec(stdout)?.[1];
  } catch {
    return undefined; // delivered (and removed) between listing and reading
  }
}

/** Attempt ids of every message still queued. */
export async function queuedAttempts(pf: PostfixInstance): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const entry of pf.queue()) {
    const attempt = await queuedAttempt(pf.configDir, entry.queue_id);
    if (attempt) ids.add(attempt);
  }
  return ids;
}

/** Flushes every `flushEveryMs` until the queue is empty or `timeoutMs` passed; returns what is left. */
export async function flushUntilEmpty(pf: PostfixInstance, timeoutMs: number, flushEveryMs = 2_000): Promise<QueueEntry[]> {
  const until = Date.now() + timeoutMs;
  let lastFlush = 0;
  for (;;) {
    const left = pf.queue();
    if (left.length === 0 || Date.now() > until) return left;
    if (Date.now() - lastFlush >= flushEveryMs) {
      pf.flush();
      lastFlush = Date.now();
    }
    await sleep(250);
  }
}
