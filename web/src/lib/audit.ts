// The audit log's vocabulary (API.md "Audit log") and a short text of what an entry changed.

import type { AuditEntry } from "../api/types";

export const AUDIT_ACTIONS = [
  "strategy.created",
  "strategy.token_rotated",
  "strategy.paused",
  "strategy.resumed",
  "strategy.renamed",
  "strategy.deleted",
  "terminal.registered",
  "terminal.token_rotated",
  "terminal.device_released",
  "terminal.deleted",
  "share.created",
  "share.updated",
  "share.paused",
  "share.resumed",
  "share.revoked",
  "share.removed",
  "share.expired",
  "bundle.created",
  "bundle.strategy_added",
  "bundle.strategy_removed",
  "bundle.member_removed",
  "bundle.deleted",
  "group.created",
  "group.member_added",
  "group.member_removed",
  "group.share_created",
  "group.share_removed",
  "group.deleted",
  "invitation.sent",
  "invitation.accepted",
  "invitation.revoked",
  "invitation.expired",
  "plan.changed",
  "admin.settings_changed",
  "drift.sync_sent",
] as const;

const text = (value: unknown) => (value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value));

/** "before → after" of the fields that differ, e.g. `paused: false → true`; whole values otherwise. */
export function auditChange(entry: Pick<AuditEntry, "before" | "after">): string {
  const { before, after } = entry;
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => text(before[k]) !== text(after[k]));
    return keys.map((k) => `${k}: ${text(before[k]) || "—"} → ${text(after[k]) || "—"}`).join("; ");
  }
  if (before == null && after == null) return "";
  return `${text(before) || "—"} → ${text(after) || "—"}`;
}
