// One async action of a screen: busy while it runs, its error kept for the screen to show in words.

import { shallowRef } from "vue";

export function useAction() {
  const busy = shallowRef(false);
  const error = shallowRef<unknown>(null);

  async function run<T>(work: () => Promise<T>): Promise<T | undefined> {
    busy.value = true;
    error.value = null;
    try {
      return await work();
    } catch (caught) {
      error.value = caught;
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, run };
}

/** Run reads side by side; each that answers is used (`use`), and the first failure is thrown after
 * all of them settle, for the screen to show in words. One missing list does not blank the others. */
export async function settleAll(...reads: (() => Promise<void>)[]): Promise<void> {
  const results = await Promise.allSettled(reads.map((read) => read()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) throw failed.reason;
}
