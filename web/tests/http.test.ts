import { describe, expect, it } from "vitest";

import { ApiClient, ApiError } from "../src/api/http";
import { CognitoClient } from "../src/auth/cognito";
import { SESSION_KEY, SessionStore } from "../src/auth/session";
import { COGNITO, json, jwt, MemoryStorage, scriptedFetch } from "./helpers";

const NOW = 1_800_000_000_000;

function signedInSession(cognitoFetch: typeof fetch, exp = NOW / 1000 + 3600) {
  const storage = new MemoryStorage();
  storage.setItem(
    SESSION_KEY,
    JSON.stringify({ email: "o@example.com", userId: "u", idToken: "id-1", accessToken: "a", refreshToken: "r", expiresAt: exp * 1000 }),
  );
  const client = new CognitoClient(COGNITO, cognitoFetch);
  return new SessionStore(() => client, storage, () => NOW);
}

describe("ApiClient", () => {
  it("sends the ID token as a bearer and JSON bodies, relative to the base URL", async () => {
    const api = scriptedFetch(json(201, { strategyId: "stg_1" }));
    const client = new ApiClient("https://api.example.com/prod", signedInSession(scriptedFetch().fetcher), api.fetcher);
    expect(await client.post("/api/strategies", { name: "x" })).toEqual({ strategyId: "stg_1" });
    const [call] = api.calls;
    expect(call!.url).toBe("https://api.example.com/prod/api/strategies");
    expect(call!.headers.Authorization).toBe("Bearer id-1");
    expect(call!.headers["Content-Type"]).toBe("application/json");
    expect(call!.body).toEqual({ name: "x" });
  });

  it("answers 204 with nothing", async () => {
    const api = scriptedFetch(new Response(null, { status: 204 }));
    const client = new ApiClient("", signedInSession(scriptedFetch().fetcher), api.fetcher);
    await expect(client.delete("/api/terminals/trm_1")).resolves.toBeNull();
  });

  it("on a 401 refreshes once and retries with the new token", async () => {
    const fresh = jwt({ sub: "u", exp: NOW / 1000 + 3600 });
    const cognito = scriptedFetch(json(200, { AuthenticationResult: { IdToken: fresh, AccessToken: "a2", ExpiresIn: 3600 } }));
    const api = scriptedFetch(json(401, { code: "UNAUTHORIZED", message: "no" }), json(200, { items: [] }));
    const client = new ApiClient("", signedInSession(cognito.fetcher), api.fetcher);
    expect(await client.get("/api/strategies")).toEqual({ items: [] });
    expect(api.calls.map((c) => c.headers.Authorization)).toEqual(["Bearer id-1", `Bearer ${fresh}`]);
  });

  it("ends the session when the API still refuses after a refresh", async () => {
    const fresh = jwt({ sub: "u", exp: NOW / 1000 + 3600 });
    const cognito = scriptedFetch(json(200, { AuthenticationResult: { IdToken: fresh, AccessToken: "a2", ExpiresIn: 3600 } }), json(200, {}));
    const api = scriptedFetch(json(401, { code: "UNAUTHORIZED", message: "no" }), json(401, { code: "UNAUTHORIZED", message: "no" }));
    const session = signedInSession(cognito.fetcher);
    const error = await new ApiClient("", session, api.fetcher).get("/api/strategies").catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 401, code: "UNAUTHORIZED" });
    expect(session.signedIn.value).toBe(false);
    expect(session.endReason.value).toBe("expired");
  });

  it("keeps the API.md error body: code, message and validation details", async () => {
    const api = scriptedFetch(
      json(400, { code: "VALIDATION_ERROR", message: "The body does not match the schema.", details: [{ field: "name", message: "too long" }] }),
    );
    const error = (await new ApiClient("", signedInSession(scriptedFetch().fetcher), api.fetcher)
      .post("/api/strategies", { name: "x".repeat(200) })
      .catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: "VALIDATION_ERROR", details: [{ field: "name", message: "too long" }] });
  });

  it("names a body-less failure by its status, and a dead network NETWORK", async () => {
    const api = scriptedFetch(new Response("<html>bad gateway</html>", { status: 502, statusText: "Bad Gateway" }), new TypeError("offline"));
    const client = new ApiClient("", signedInSession(scriptedFetch().fetcher), api.fetcher);
    await expect(client.get("/api/strategies")).rejects.toMatchObject({ status: 502, code: "HTTP_502" });
    await expect(client.get("/api/strategies")).rejects.toMatchObject({ status: 0, code: "NETWORK" });
  });
});
