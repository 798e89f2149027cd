// What every screen shares. The session exists from the first line (it is read from localStorage,
// so the router can start loading the first screen at once); the rest once the runtime config is
// known (src/main.ts).

import { ApiClient, configureApi } from "./api/http";
import { CognitoClient } from "./auth/cognito";
import { SessionStore } from "./auth/session";
import type { RuntimeConfig } from "./config";

export interface Services {
  config: RuntimeConfig;
  cognito: CognitoClient;
  session: SessionStore;
}

let services: Services | null = null;

export function createSession(storage: Storage = localStorage): SessionStore {
  return new SessionStore(() => useServices().cognito, storage);
}

export function initServices(config: RuntimeConfig, session: SessionStore): Services {
  const cognito = new CognitoClient(config.cognito);
  configureApi(new ApiClient(config.apiBase, session));
  services = { config, cognito, session };
  return services;
}

export function useServices(): Services {
  if (!services) throw new Error("services are not initialised");
  return services;
}

/** The local stack signs in against moto, which sends no email (any code confirms). */
export function isLocalCognito(config: RuntimeConfig): boolean {
  return !/\.amazonaws\.com(\.cn)?(\/|$)/.test(new URL(config.cognito.endpoint).host + "/");
}
