/**
 * What a failed `git push` means. Someone else updated the branch between our fetch and our
 * push (the answer is to fetch, re-apply and push again), or anything else (no access, a
 * server hook refused, the network): stop and say what git said. Never retried with force.
 *
 * Both forms of "the branch moved" are recognised: the client's own refusal when the remote
 * head it was shown is not an ancestor (`[rejected] (fetch first)` / `(non-fast-forward)` /
 * `(stale info)`), and the server's refusal when the branch moved after it was shown
 * (`[remote rejected] (failed to update ref)`, "cannot lock ref ... is at X but expected Y").
 */
export type PushOutcome = 'moved' | 'failed';

const MOVED = [
  /\[rejected\][^\n]*\((fetch first|non-fast-forward|stale info|already exists)\)/,
  /\[remote rejected\][^\n]*\((failed to update ref|failed to lock|cannot lock ref|incorrect old value)/,
  /cannot lock ref '[^']+': is at [0-9a-f]+ but expected/,
];

/** Reasons that are never "try again": a server policy or hook, permissions, a broken repository. */
const FINAL = [/\(pre-receive hook declined\)/, /\(hook declined\)/, /\(deny updating/, /\(protected branch/i, /permission denied/i, /\(shallow update not allowed\)/];

export function classifyPush(output: string): PushOutcome {
  if (FINAL.some((re) => re.test(output))) return 'failed';
  return MOVED.some((re) => re.test(output)) ? 'moved' : 'failed';
}

/** Milliseconds to wait before attempt `n` (2, 3, ...): growing, with jitter so racing publishers spread out. */
export function backoffMs(attempt: number, random = Math.random): number {
  return Math.min(2_000, 150 * 2 ** (attempt - 2)) + Math.floor(random() * 150);
}
