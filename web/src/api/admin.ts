// The audit log and the admin area (API.md "Sharing": audit log, admin).

import { api } from "./http";
import type { AdminSettings, AdminUser, AuditPage, AuditQuery, Page, Plan } from "./types";

export function listAudit(query: AuditQuery = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return api().get<AuditPage>(`/api/audit${text ? `?${text}` : ""}`);
}

export const getAdminSettings = () => api().get<AdminSettings>("/api/admin/settings");
export const putAdminSettings = (settings: AdminSettings) => api().put<AdminSettings>("/api/admin/settings", settings);
export const listUsers = () => api().get<Page<AdminUser>>("/api/admin/users");
export const setUserPlan = (userId: string, plan: Plan) =>
  api().put<AdminUser>(`/api/admin/users/${encodeURIComponent(userId)}/plan`, { plan });
