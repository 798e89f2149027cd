import { describe, expect, it, vi } from "vitest";

import { CognitoClient, CognitoError } from "../src/auth/cognito";
import { SESSION_KEY, SessionStore } from "../src/auth/session";
import { COGNITO, json, jwt, MemoryStorage, scriptedFetch } from "./helpers";

const NOW = 1_800_000_000_000;

function idToken(expSeconds: number, sub = "user-1") {
  return jwt({ sub, email: "owner@example.com", exp: expSeconds, token_use: "id" });
}

function store(fetcher: typeof fetch, storage = new MemoryStorage(), now = () => NOW) {
  const client = new CognitoClient(COGNITO, fetcher);
  return { session: new SessionStore(() => client, storage, now), storage };
}

const signInAnswer = (exp: number) =>
  json(200, { AuthenticationResult: { IdToken: idToken(exp), AccessToken: "a1", RefreshToken: "r1", ExpiresIn: 3600 } });

describe("SessionStore", () => {
  it("keeps the session under one localStorage key, with claims read from the ID token", async () => {
    const { fetcher } = scriptedFetch(signInAnswer(NOW / 1000 + 3600));
    const { session, storage } = store(fetcher);
    await session.signIn("owner@example.com", "pw");
    expect(storage.keys()).toEqual([SESSION_KEY]);
    const saved = JSON.parse(storage.getItem(SESSION_KEY)!);
    expect(saved).toMatchObject({ email: "owner@example.com", userId: "user-1", refreshToken: "r1", expiresAt: NOW + 3600_000 });
    expect(Object.keys(saved).sort()).toEqual(["accessToken", "email", "expiresAt", "idToken", "refreshToken", "userId"]);
    expect(session.signedIn.value).toBe(true);
  });

  it("survives a reload: a new store reads the saved session", async () => {
    const { fetcher } = scriptedFetch(signInAnswer(NOW / 1000 + 3600));
    const { session, storage } = store(fetcher);
    await session.signIn("owner@example.com", "pw");
    const reloaded = store(scriptedFetch().fetcher, storage).session;
    expect(reloaded.current.value?.email).toBe("owner@example.com");
    expect(await reloaded.idToken()).toBe(session.current.value!.idToken);
  });

  it("ignores a corrupt stored session", () => {
    const storage = new MemoryStorage();
    storage.setItem(SESSION_KEY, '{"email": 1}');
    expect(store(scriptedFetch().fetcher, storage).session.signedIn.value).toBe(false);
  });

  it("refreshes an ID token that expires within a minute, once for many callers", async () => {
    const fresh = idToken(NOW / 1000 + 3600);
    const { fetcher, calls } = scriptedFetch(
      signInAnswer(NOW / 1000 + 30),
      json(200, { AuthenticationResult: { IdToken: fresh, AccessToken: "a2", ExpiresIn: 3600 } }),
    );
    const { session, storage } = store(fetcher);
    await session.signIn("owner@example.com", "pw");
    const tokens = await Promise.all([session.idToken(), session.idToken(), session.idToken()]);
    expect(tokens).toEqual([fresh, fresh, fresh]);
    expect(calls.filter((c) => (c.body.AuthFlow as string) === "REFRESH_TOKEN_AUTH")).toHaveLength(1);
    // The refresh token is kept (a refresh answer carries none).
    expect(JSON.parse(storage.getItem(SESSION_KEY)!).refreshToken).toBe("r1");
  });

  it("ends the session as expired when Cognito refuses the refresh token", async () => {
    const { fetcher } = scriptedFetch(
      signInAnswer(NOW / 1000 + 10),
      json(400, { __type: "NotAuthorizedException", message: "Refresh Token has been revoked" }),
    );
    const { session, storage } = store(fetcher);
    await session.signIn("owner@example.com", "pw");
    await expect(session.idToken()).rejects.toBeInstanceOf(CognitoError);
    expect(session.signedIn.value).toBe(false);
    expect(session.endReason.value).toBe("expired");
    expect(storage.length).toBe(0);
  });

  it("keeps the session through a network error during refresh", async () => {
    const { fetcher } = scriptedFetch(signInAnswer(NOW / 1000 + 10), new TypeError("offline"));
    const { session } = store(fetcher);
    await session.signIn("owner@example.com", "pw");
    await expect(session.refresh()).rejects.toMatchObject({ type: "NetworkError" });
    expect(session.signedIn.value).toBe(true);
  });

  it("signs out: storage cleared at once, refresh token revoked, a failed revoke ignored", async () => {
    const { fetcher, calls } = scriptedFetch(signInAnswer(NOW / 1000 + 3600), json(500, {}));
    const { session, storage } = store(fetcher);
    await session.signIn("owner@example.com", "pw");
    await session.signOut();
    expect(storage.length).toBe(0);
    expect(session.signedIn.value).toBe(false);
    expect(session.endReason.value).toBeNull();
    expect(calls[1]!.body).toEqual({ ClientId: "client123", Token: "r1" });
  });

  it("follows another tab through the storage", async () => {
    const { fetcher } = scriptedFetch(signInAnswer(NOW / 1000 + 3600));
    const storage = new MemoryStorage();
    const other = store(scriptedFetch().fetcher, storage).session;
    await store(fetcher, storage).session.signIn("owner@example.com", "pw");
    expect(other.signedIn.value).toBe(false);
    other.syncFromStorage();
    expect(other.signedIn.value).toBe(true);
    vi.restoreAllMocks();
  });
});
