// Sharing in words: what a share's permissions allow, and the form values the API wants.

import type { Permissions } from "../api/types";
import { t } from "../i18n";

export const DEFAULT_PERMISSIONS: Permissions = { canPause: false, canDelete: false, terminalLimit: 1 };

export const validPermissions = (p: Permissions) => Number.isInteger(p.terminalLimit) && p.terminalLimit >= 1 && p.terminalLimit <= 100;

/** What the recipient may do, one sentence each. */
export function permissionLines(p: Permissions): string[] {
  return [
    t("sharing.allows.receive", { n: p.terminalLimit }),
    p.canPause ? t("sharing.allows.pause") : t("sharing.allows.noPause"),
    p.canDelete ? t("sharing.allows.remove") : t("sharing.allows.noRemove"),
  ];
}

/** An <input type="datetime-local"> value as ISO 8601 (UTC); undefined when empty. */
export function isoFromLocal(value: string): string | undefined {
  if (!value) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The other way: an ISO time as the value of an <input type="datetime-local"> in local time. */
export function localFromIso(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
