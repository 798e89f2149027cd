// Keeping the loaded timeline current: pages read again replace what they cover.

import type { Signal } from "../api/types";

/** The timeline's order: newest first, ties by id (the server's order). */
const key = (s: Signal) => `${s.receivedAt}|${s.signalId}`;
const newestFirst = (a: Signal, b: Signal) => key(b).localeCompare(key(a));

/**
 * Merge a freshly read page into the loaded signals, newest first.
 *
 * `older` pages (read with `before`) only add. The newest page, read again, covers every signal the
 * server scanned: ids from its `nextBefore` (the last one scanned; ids grow with time) up, or all of
 * them when `nextBefore` is null. A loaded signal in that range that the page no longer holds has left
 * the filter (its status moved on) and is dropped; one it holds is replaced.
 */
export function mergeSignals(current: Signal[], fresh: Signal[], nextBefore: string | null, older = false): Signal[] {
  const byId = new Map<string, Signal>();
  let kept = current;
  if (!older) kept = nextBefore === null ? [] : current.filter((s) => s.signalId < nextBefore);
  for (const s of kept) byId.set(s.signalId, s);
  for (const s of fresh) byId.set(s.signalId, s);
  return [...byId.values()].sort(newestFirst);
}
