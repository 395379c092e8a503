/**
 * Every accepted message must reach the sink exactly once: `lost` were accepted and never
 * received, `duplicates` counts extra copies, `unacknowledged` arrived without the client seeing
 * its 250 (a session cut after the data; not a loss, but the client would send it again).
 */
export function deliveryCheck(acceptedIds: readonly string[], received: Readonly<Record<string, number>>): { lost: number; duplicates: number; unacknowledged: number } {
  const accepted = new Set(acceptedIds);
  let lost = 0;
  for (const id of accepted) if (!received[id]) lost++;
  let duplicates = 0;
  let unacknowledged = 0;
  for (const [id, n] of Object.entries(received)) {
    duplicates += Math.max(0, n - 1);
    if (!accepted.has(id)) unacknowledged++;
  }
  return { lost, duplicates, unacknowledged };
}
