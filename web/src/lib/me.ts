// Who the signed-in user is (GET /api/me): the plan that gates sharing, and whether the admin area is
// shown. Read once per sign-in; forgotten on sign-out.

import { shallowRef } from "vue";

import { apiConfigured, ApiError } from "../api/http";
import { getMe } from "../api/sharing";
import type { Me } from "../api/types";

const me = shallowRef<Me | null>(null);
const error = shallowRef<unknown>(null);
let pending: Promise<Me | null> | null = null;

export function useMe() {
  return { me, error };
}

export function loadMe(force = false): Promise<Me | null> {
  if (me.value && !force) return Promise.resolve(me.value);
  if (pending && !force) return pending;
  pending = apiConfigured()
    .then(getMe)
    .then((answer) => {
      me.value = answer;
      error.value = null;
      return answer;
    })
    .catch((caught: unknown) => {
      // An API without /api/me (NOT_FOUND) is a user with no sharing and no admin area.
      error.value = caught instanceof ApiError && caught.code === "NOT_FOUND" ? null : caught;
      me.value = null;
      return null;
    })
    .finally(() => {
      pending = null;
    });
  return pending;
}

export function forgetMe(): void {
  me.value = null;
  error.value = null;
  pending = null;
}

/** Sharing needs a paid plan: true once /api/me said the plan has no sharing (limits.sharing, else plan free). */
export const needsPlan = (who: Me | null) =>
  who !== null && (typeof who.limits?.sharing === "boolean" ? !who.limits.sharing : who.plan === "free");
