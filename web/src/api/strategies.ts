// Strategies (API.md "Owner API", "More sources"): create, list, get, rename / pause, delete, rotate the
// webhook token, inject, timeline.

import { api } from "./http";
import type {
  CreatedStrategy,
  InjectResult,
  Page,
  RotatedWebhookToken,
  Signal,
  SignalStatus,
  Strategy,
  StrategyChange,
  StrategySource,
} from "./types";

const path = (strategyId: string) => `/api/strategies/${encodeURIComponent(strategyId)}`;

export const listStrategies = () => api().get<Page<Strategy>>("/api/strategies");

export const getStrategy = (strategyId: string) => api().get<Strategy>(path(strategyId));

export interface NewStrategy {
  name: string;
  source?: StrategySource;
  signalTtlSeconds?: number;
}

/** `source` is sent only when it is not the default (joinquant), so a server without sources still works. */
export const createStrategy = ({ name, source, signalTtlSeconds }: NewStrategy) =>
  api().post<CreatedStrategy>("/api/strategies", {
    name,
    ...(source && source !== "joinquant" ? { source } : {}),
    ...(signalTtlSeconds ? { signalTtlSeconds } : {}),
  });

/** Rename and/or the kill switch (`paused`). */
export const updateStrategy = (strategyId: string, change: StrategyChange) => api().patch<Strategy>(path(strategyId), change);

/** Deletes the strategy with its signals and deliveries; its webhook answers 401 from then on. */
export const deleteStrategy = (strategyId: string) => api().delete(path(strategyId));

export const rotateWebhookToken = (strategyId: string) => api().post<RotatedWebhookToken>(`${path(strategyId)}/token`);

export interface InjectOptions {
  rotateToken: boolean;
  sendInBacktest: boolean;
}

export const injectCode = (strategyId: string, code: string, options: InjectOptions) =>
  api().post<InjectResult>(`${path(strategyId)}/inject`, { code, ...options });

export const PAGE_SIZE = 50;

export interface SignalQuery {
  before?: string | null;
  status?: SignalStatus | "";
  limit?: number;
}

/** One page, newest first. With `status` the server filters (a filtered page may hold fewer than `limit`
 * items, even none, while `nextBefore` is still set: follow it until null). */
export const listSignals = (strategyId: string, { before, status, limit = PAGE_SIZE }: SignalQuery = {}) => {
  const query = new URLSearchParams({ limit: String(limit) });
  if (before) query.set("before", before);
  if (status) query.set("status", status);
  return api().get<Page<Signal>>(`${path(strategyId)}/signals?${query}`);
};
