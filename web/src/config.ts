// Runtime configuration: nothing about a deployment is baked into the bundle.
//
// 1. `config.json` beside index.html says where the API is (`make deploy` writes it from the stack
//    outputs). Missing, or `{}` as the build ships it, means "the API is on this origin" (the local stack).
// 2. `GET {apiBase}/api/config` says how to sign in (API.md): the Cognito endpoint, pool and client ids.

export interface CognitoSettings {
  endpoint: string;
  region: string;
  userPoolId: string;
  clientId: string;
}

export interface RuntimeConfig {
  /** Where this SPA sends its API calls: "" means its own origin. */
  apiBase: string;
  /** The API's absolute base URL as the API itself names it (for terminal configs and scripts). */
  publicApiBase: string;
  cognito: CognitoSettings;
}

export class ConfigUnavailable extends Error {
  constructor(readonly url: string, reason: string) {
    super(`${url}: ${reason}`);
    this.name = "ConfigUnavailable";
  }
}

type Fetch = typeof fetch;

function stripSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/** The API base from config.json, or "" (same origin) when the file is absent or says nothing. */
export async function readSiteConfig(fetcher: Fetch = fetch, url = "config.json"): Promise<string> {
  let response: Response;
  try {
    response = await fetcher(url, { cache: "no-store" });
  } catch {
    return "";
  }
  if (!response.ok || !(response.headers.get("content-type") ?? "").includes("json")) return "";
  const data: unknown = await response.json().catch(() => ({}));
  const apiBase = (data as { apiBase?: unknown }).apiBase;
  return typeof apiBase === "string" ? stripSlash(apiBase) : "";
}

export async function loadRuntimeConfig(fetcher: Fetch = fetch): Promise<RuntimeConfig> {
  const siteBase = await readSiteConfig(fetcher);
  const url = `${siteBase}/api/config`;
  let response: Response;
  try {
    response = await fetcher(url, { cache: "no-store" });
  } catch {
    throw new ConfigUnavailable(url, "network error");
  }
  if (!response.ok) throw new ConfigUnavailable(url, `HTTP ${response.status}`);
  const data = (await response.json().catch(() => null)) as {
    region?: string;
    apiBase?: string;
    cognito?: { endpoint?: string; userPoolId?: string; clientId?: string };
  } | null;
  const cognito = data?.cognito;
  if (!data?.region || !cognito?.endpoint || !cognito.userPoolId || !cognito.clientId) {
    throw new ConfigUnavailable(url, "incomplete answer");
  }
  return {
    apiBase: siteBase,
    publicApiBase: stripSlash(data.apiBase || siteBase || globalThis.location.origin),
    cognito: {
      endpoint: cognito.endpoint,
      region: data.region,
      userPoolId: cognito.userPoolId,
      clientId: cognito.clientId,
    },
  };
}
