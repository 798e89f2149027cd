import { describe, expect, it } from "vitest";

import { ConfigUnavailable, loadRuntimeConfig, readSiteConfig } from "../src/config";
import { isLocalCognito } from "../src/services";
import { json, scriptedFetch } from "./helpers";

const apiConfig = {
  region: "ap-east-1",
  cognito: { endpoint: "https://cognito-idp.ap-east-1.amazonaws.com/", userPoolId: "pool", clientId: "client" },
  apiBase: "https://abc.execute-api.ap-east-1.amazonaws.com/prod",
};

describe("runtime config", () => {
  it("takes the API base from config.json, then Cognito from GET /api/config there", async () => {
    const { fetcher, calls } = scriptedFetch(json(200, { apiBase: "https://abc.execute-api.ap-east-1.amazonaws.com/prod/" }), json(200, apiConfig));
    const config = await loadRuntimeConfig(fetcher);
    expect(calls.map((c) => c.url)).toEqual(["config.json", "https://abc.execute-api.ap-east-1.amazonaws.com/prod/api/config"]);
    expect(config).toEqual({
      apiBase: "https://abc.execute-api.ap-east-1.amazonaws.com/prod",
      publicApiBase: "https://abc.execute-api.ap-east-1.amazonaws.com/prod",
      cognito: { endpoint: apiConfig.cognito.endpoint, region: "ap-east-1", userPoolId: "pool", clientId: "client" },
    });
  });

  it("uses its own origin when config.json is missing, empty, or the index.html fallback", async () => {
    expect(await readSiteConfig(scriptedFetch(json(404, {})).fetcher)).toBe("");
    expect(await readSiteConfig(scriptedFetch(json(200, {})).fetcher)).toBe("");
    expect(await readSiteConfig(scriptedFetch(new Response("<html></html>", { headers: { "content-type": "text/html" } })).fetcher)).toBe("");
    expect(await readSiteConfig(scriptedFetch(new TypeError("offline")).fetcher)).toBe("");
    const { fetcher, calls } = scriptedFetch(json(404, {}), json(200, { ...apiConfig, apiBase: "http://127.0.0.1:3000" }));
    const config = await loadRuntimeConfig(fetcher);
    expect(calls[1]!.url).toBe("/api/config");
    expect(config.apiBase).toBe("");
    expect(config.publicApiBase).toBe("http://127.0.0.1:3000");
  });

  it("fails clearly when the API cannot say how to sign in", async () => {
    await expect(loadRuntimeConfig(scriptedFetch(json(404, {}), json(503, { code: "UNAVAILABLE" })).fetcher)).rejects.toBeInstanceOf(ConfigUnavailable);
    await expect(loadRuntimeConfig(scriptedFetch(json(404, {}), json(200, { region: "x" })).fetcher)).rejects.toThrow(/incomplete/);
  });

  it("knows the local (moto) Cognito from AWS's", () => {
    const base = { apiBase: "", publicApiBase: "", cognito: { ...apiConfig.cognito, region: "ap-east-1" } };
    expect(isLocalCognito(base)).toBe(false);
    expect(isLocalCognito({ ...base, cognito: { ...base.cognito, endpoint: "http://127.0.0.1:40713" } })).toBe(true);
  });
});
