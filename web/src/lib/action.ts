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
