import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";

import { ApiClient, configureApi } from "../src/api/http";
import { CognitoClient } from "../src/auth/cognito";
import { SESSION_KEY, SessionStore } from "../src/auth/session";
import ConfirmButton from "../src/components/ConfirmButton.vue";
import { setLocale } from "../src/i18n";
import App from "../src/App.vue";
import { buildRouter } from "../src/router";
import { initServices } from "../src/services";
import StrategiesView from "../src/views/StrategiesView.vue";
import { COGNITO, json, MemoryStorage, scriptedFetch } from "./helpers";

function signedIn(): SessionStore {
  const storage = new MemoryStorage();
  storage.setItem(
    SESSION_KEY,
    JSON.stringify({ email: "o@example.com", userId: "u", idToken: "id", accessToken: "a", refreshToken: "r", expiresAt: Date.now() + 3600_000 }),
  );
  const client = new CognitoClient(COGNITO, scriptedFetch().fetcher);
  return new SessionStore(() => client, storage);
}

function testRouter() {
  return createRouter({
    history: createMemoryHistory(),
    routes: [{ path: "/:any(.*)*", name: "any", component: { template: "<div />" } }, { path: "/s/:strategyId/inject", name: "inject", component: { template: "<div />" } }, { path: "/s/:strategyId/timeline", name: "timeline", component: { template: "<div />" } }],
  });
}

beforeEach(() => setLocale("en"));
afterEach(() => document.body.replaceChildren());

describe("router", () => {
  it("sends a signed-out visitor to sign-in, remembering where they were going", async () => {
    const session = new SessionStore(() => new CognitoClient(COGNITO, scriptedFetch().fetcher), new MemoryStorage());
    const router = buildRouter(session);
    await router.push("/strategies/stg_1/timeline");
    expect(router.currentRoute.value.name).toBe("sign-in");
    expect(router.currentRoute.value.query.redirect).toBe("/strategies/stg_1/timeline");
  });

  it("lets a signed-in owner through and keeps them off the sign-in page", async () => {
    const router = buildRouter(signedIn());
    await router.push("/terminals");
    expect(router.currentRoute.value.name).toBe("terminals");
    await router.push("/sign-in");
    expect(router.currentRoute.value.path).toBe("/strategies");
    await router.push("/no/such/page");
    expect(router.currentRoute.value.name).toBe("not-found");
  });

  it("uses hash URLs, so a deep link reloads on static hosting", () => {
    const router = buildRouter(signedIn());
    expect(router.resolve("/strategies/stg_1/timeline").href).toBe("#/strategies/stg_1/timeline");
  });
});

describe("ConfirmButton", () => {
  it("asks first, confirms on the second press, and Escape cancels", async () => {
    const wrapper = mount(ConfirmButton, { props: { label: "Delete", question: "Sure?" }, attachTo: document.body });
    await wrapper.get("button").trigger("click");
    expect(wrapper.text()).toContain("Sure?");
    expect(document.activeElement?.textContent).toContain("Confirm: Delete");
    await wrapper.get(".confirm-box").trigger("keydown", { key: "Escape" });
    expect(wrapper.emitted("confirm")).toBeUndefined();
    expect(wrapper.text()).not.toContain("Sure?");
    await wrapper.get("button").trigger("click");
    await wrapper.findAll("button")[0]!.trigger("click");
    expect(wrapper.emitted("confirm")).toHaveLength(1);
  });
});

describe("StrategiesView", () => {
  it("shows the new webhook token once, and never again after it is dismissed", async () => {
    const created = {
      strategyId: "stg_1",
      name: "双均线",
      webhookUrl: "https://api.example.com/prod/api/webhooks/joinquant/stg_1",
      signalTtlSeconds: 300,
      createdAt: "2026-11-20T01:00:00.000+00:00",
      webhookToken: "qlw_secret_token",
    };
    const { webhookToken: _, ...listed } = created;
    const api = scriptedFetch(json(200, { items: [] }), json(201, created), json(200, { items: [listed] }));
    configureApi(new ApiClient("", signedIn(), api.fetcher));
    const router = testRouter();
    const wrapper = mount(StrategiesView, { global: { plugins: [router] }, attachTo: document.body });
    await flushPromises();
    expect(wrapper.get("[data-testid=empty-state]").text()).toContain("No strategies yet");

    await wrapper.get("#strategy-name").setValue("双均线");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(api.calls[1]!.body).toEqual({ name: "双均线" });
    const panel = wrapper.get("[data-testid=secret-panel]");
    const values = panel.findAll("input").map((i) => (i.element as HTMLInputElement).value);
    expect(values).toEqual([created.webhookUrl, "qlw_secret_token"]);
    expect(document.activeElement).toBe(panel.element);

    await panel.findAll("button").find((b) => b.text() === "I saved it")!.trigger("click");
    await wrapper.findAll("button").find((b) => b.text() === "Refresh")!.trigger("click");
    await flushPromises();
    expect(wrapper.html()).not.toContain("qlw_secret_token");
    expect(wrapper.findAll("[data-testid=strategy]")).toHaveLength(1);
  });

  it("shows an API failure in words", async () => {
    const api = scriptedFetch(json(503, { code: "UNAVAILABLE", message: "throttled" }));
    configureApi(new ApiClient("", signedIn(), api.fetcher));
    const wrapper = mount(StrategiesView, { global: { plugins: [testRouter()] } });
    await flushPromises();
    expect(wrapper.get("[role=alert]").text()).toBe("QuantLink is busy right now. Try again in a moment; nothing was lost.");
  });
});

describe("App sign-out", () => {
  it("goes to the sign-in page at once, and a page opened while the revoke is in flight keeps its redirect", async () => {
    let answerRevoke: (response: Response) => void = () => undefined;
    const revoke = new Promise<Response>((resolve) => (answerRevoke = resolve));
    const cognito = new CognitoClient(COGNITO, (() => revoke) as unknown as typeof fetch);
    const storage = new MemoryStorage();
    storage.setItem(
      SESSION_KEY,
      JSON.stringify({ email: "o@example.com", userId: "u", idToken: "id", accessToken: "a", refreshToken: "r", expiresAt: Date.now() + 3600_000 }),
    );
    const session = new SessionStore(() => cognito, storage);
    initServices({ apiBase: "", publicApiBase: "http://api.example", cognito: COGNITO }, session);
    configureApi(new ApiClient("", session, scriptedFetch(json(404, { code: "NOT_FOUND", message: "no" }), json(200, { items: [] })).fetcher));
    const router = buildRouter(session);
    await router.push("/strategies");
    const wrapper = mount(App, { global: { plugins: [router] }, attachTo: document.body });
    await flushPromises();

    await wrapper.findAll("button").find((b) => b.text() === "Sign out")!.trigger("click");
    await flushPromises();
    expect(router.currentRoute.value.fullPath).toBe("/sign-in");
    await router.push("/terminals");
    expect(router.currentRoute.value.fullPath).toBe("/sign-in?redirect=/terminals");
    answerRevoke(json(200, {}));
    await flushPromises();
    expect(router.currentRoute.value.fullPath).toBe("/sign-in?redirect=/terminals");
    expect(storage.getItem(SESSION_KEY)).toBeNull();
  });
});
