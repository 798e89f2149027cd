// Drift (API.md "Drift"): what a terminal should hold against what it reported, per trading day.

import { api } from "./http";
import type { DriftPoint, DriftReport, Page } from "./types";

const path = (terminalId: string) => `/api/terminals/${encodeURIComponent(terminalId)}/drift`;

/** Computed now (what the daily job does at 15:20 Asia/Shanghai); the latest trading day with data by default. */
export const computeDrift = (terminalId: string, date?: string) => api().post<DriftReport>(path(terminalId), date ? { date } : {});

/** The stored report (the latest when no date); NOT_FOUND when there is none. */
export const getDrift = (terminalId: string, date?: string) =>
  api().get<DriftReport>(date ? `${path(terminalId)}?date=${encodeURIComponent(date)}` : path(terminalId));

export function driftHistory(terminalId: string, days = 30, security?: string) {
  const query = new URLSearchParams({ days: String(days) });
  if (security) query.set("security", security);
  return api().get<Page<DriftPoint>>(`${path(terminalId)}/history?${query}`);
}

export const setDriftThreshold = (terminalId: string, threshold: number) =>
  api().put<{ threshold: number }>(`${path(terminalId)}/threshold`, { threshold });

/** Sends the report's sync orders to this terminal as signals with origin "sync". */
export const sendDriftSync = (terminalId: string, date: string) => api().post<{ signals: number }>(`${path(terminalId)}/sync`, { date });
