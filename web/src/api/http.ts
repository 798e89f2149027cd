// One place that talks HTTP to the QuantLink API: base URL, the owner's bearer token, one retry
// after a refresh on 401, and every failure turned into an ApiError with the API.md error code.

import type { SessionStore } from "../auth/session";

export interface ErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** The API.md code (`NOT_FOUND`, ...); `NETWORK` when nothing answered, `HTTP_<status>` without a body. */
    readonly code: string,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = "ApiError";
  }
}

type Fetch = typeof fetch;

function parseDetails(raw: unknown): ErrorDetail[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((d): d is Record<string, unknown> => typeof d === "object" && d !== null)
    .map((d) => ({ field: String(d.field ?? ""), message: String(d.message ?? "") }));
}

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly session: SessionStore,
    private readonly fetcher: Fetch = (...args) => fetch(...args),
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let token = await this.session.idToken().catch(() => null);
    let response = await this.send(method, path, body, token);
    if (response.status === 401 && token) {
      // The token may have just expired or been revoked: one refresh, one retry.
      token = await this.session.refresh().catch(() => null);
      if (token) response = await this.send(method, path, body, token);
      if (response.status === 401) await this.session.signOut("expired");
    }
    return this.read<T>(response);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("POST", path, body);
  }

  put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("PUT", path, body);
  }

  patch<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>("PATCH", path, body);
  }

  delete(path: string): Promise<void> {
    return this.request<void>("DELETE", path);
  }

  private async send(method: string, path: string, body: unknown, token: string | null): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await this.fetcher(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "NETWORK", "The QuantLink API could not be reached.");
    }
  }

  private async read<T>(response: Response): Promise<T> {
    const text = await response.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (response.ok) return data as T;
    const error = (data ?? {}) as { code?: unknown; message?: unknown; details?: unknown };
    throw new ApiError(
      response.status,
      typeof error.code === "string" ? error.code : `HTTP_${response.status}`,
      typeof error.message === "string" ? error.message : response.statusText,
      parseDetails(error.details),
    );
  }
}

let current: ApiClient | null = null;
let announce: (() => void) | null = null;
const configured = new Promise<void>((resolve) => (announce = resolve));

/** Set once at start-up (src/main.ts), or by a test. */
export function configureApi(client: ApiClient): void {
  current = client;
  announce?.();
}

/** Resolves once the client is configured (the first screen may load before the runtime config). */
export const apiConfigured = (): Promise<void> => configured;

/** The API client every API module uses. */
export function api(): ApiClient {
  if (!current) throw new Error("the API client is not configured yet");
  return current;
}
