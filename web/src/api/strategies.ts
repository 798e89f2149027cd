// Strategies (API.md "Owner API"): create, list, get, rotate the webhook token, inject, timeline.

import { api } from "./http";
import type { CreatedStrategy, InjectResult, Page, Signal, Strategy } from "./types";

const path = (strategyId: string) => `/api/strategies/${encodeURIComponent(strategyId)}`;

export const listStrategies = () => api().get<Page<Strategy>>("/api/strategies");

export const getStrategy = (strategyId: string) => api().get<Strategy>(path(strategyId));

export const createStrategy = (name: string, signalTtlSeconds?: number) =>
  api().post<CreatedStrategy>("/api/strategies", signalTtlSeconds ? { name, signalTtlSeconds } : { name });

export const rotateWebhookToken = (strategyId: string) =>
  api().post<{ webhookToken: string }>(`${path(strategyId)}/token`);

export interface InjectOptions {
  rotateToken: boolean;
  sendInBacktest: boolean;
}

export const injectCode = (strategyId: string, code: string, options: InjectOptions) =>
  api().post<InjectResult>(`${path(strategyId)}/inject`, { code, ...options });

export const PAGE_SIZE = 50;

export const listSignals = (strategyId: string, before?: string | null, limit = PAGE_SIZE) => {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set("before", before);
  return api().get<Page<Signal>>(`${path(strategyId)}/signals?${query}`);
};
