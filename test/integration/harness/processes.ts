import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, ...]; undefined once gone. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

const pids = (): string[] => readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));

/** PIDs of every descendant of `pid` (from /proc), deepest first. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of pids()) {
    const fields = statFields(entry);
    if (!fields) continue; // the process exited while we looked
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(entry));
    children.set(ppid, list);
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      walk(c);
      out.push(c);
    }
  };
  walk(pid);
  return out;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to a process group (negative pid) or process, ignoring ones already gone. */
export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** Live (not zombie) PIDs whose process group is `pgid` (e.g. the master and its children). */
export function processGroupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of pids()) {
    const [state, , group] = statFields(entry) ?? [];
    if (Number(group) === pgid && state !== 'Z') out.push(Number(entry));
  }
  return out;
}

/** True while `pid` runs: a zombie (killed, not yet reaped) no longer holds sockets or files. */
export function isRunning(pid: number): boolean {
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}
