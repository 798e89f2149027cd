// Terminals (API.md "Owner API"): register, list, get, delete, subscriptions, token, device release.

import { api } from "./http";
import type { CreatedTerminal, Page, Sizing, Subscription, Terminal, TerminalKind } from "./types";

const path = (terminalId: string) => `/api/terminals/${encodeURIComponent(terminalId)}`;

export const listTerminals = () => api().get<Page<Terminal>>("/api/terminals");

export const getTerminal = (terminalId: string) => api().get<Terminal>(path(terminalId));

export const registerTerminal = (name: string, kind: TerminalKind = "qmt") =>
  api().post<CreatedTerminal>("/api/terminals", { name, kind });

export const deleteTerminal = (terminalId: string) => api().delete(path(terminalId));

export const rotateAuthToken = (terminalId: string) => api().post<{ authToken: string }>(`${path(terminalId)}/token`);

export const releaseDevice = (terminalId: string) => api().post<Terminal>(`${path(terminalId)}/release`);

export const subscribe = (terminalId: string, strategyId: string, sizing: Sizing) =>
  api().put<Subscription>(`${path(terminalId)}/subscriptions/${encodeURIComponent(strategyId)}`, { sizing });

export const unsubscribe = (terminalId: string, strategyId: string) =>
  api().delete(`${path(terminalId)}/subscriptions/${encodeURIComponent(strategyId)}`);
