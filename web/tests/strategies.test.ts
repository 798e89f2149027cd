import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";

import { ApiClient, configureApi } from "../src/api/http";
import { createStrategy, listSignals } from "../src/api/strategies";
import type { Signal, Strategy } from "../src/api/types";
import { CognitoClient } from "../src/auth/cognito";
import { SESSION_KEY, SessionStore } from "../src/auth/session";
import StrategyCard from "../src/components/StrategyCard.vue";
import { setLocale } from "../src/i18n";
import { sourceSecrets, tradingViewUrl } from "../src/lib/sources";
import { mergeSignals } from "../src/lib/timeline";
import StrategiesView from "../src/views/StrategiesView.vue";
import { COGNITO, json, MemoryStorage, scriptedFetch } from "./helpers";

function useApi(...answers: Parameters<typeof scriptedFetch>) {
  const storage = new MemoryStorage();
  storage.setItem(SESSION_KEY, JSON.stringify({ email: "o@example.com", userId: "u", idToken: "id", accessToken: "a", refreshToken: "r", expiresAt: Date.now() + 3600_000 }));
  const session = new SessionStore(() => new CognitoClient(COGNITO, scriptedFetch().fetcher), storage);
  const api = scriptedFetch(...answers);
  configureApi(new ApiClient("", session, api.fetcher));
  return api;
}

const router = () =>
  createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: "/:any(.*)*", name: "any", component: { template: "<div />" } },
      { path: "/s/:strategyId/inject", name: "inject", component: { template: "<div />" } },
      { path: "/s/:strategyId/timeline", name: "timeline", component: { template: "<div />" } },
    ],
  });

const STRATEGY: Strategy = {
  strategyId: "stg_1",
  name: "双均线",
  webhookUrl: "https://api.example.com/api/webhooks/joinquant/stg_1",
  signalTtlSeconds: 300,
  paused: false,
  createdAt: "2026-11-20T01:00:00.000+00:00",
};

async function press(wrapper: ReturnType<typeof mount>, label: string): Promise<void> {
  const button = wrapper.findAll("button").find((b) => b.text() === label);
  if (!button) throw new Error(`no button ${label}: ${wrapper.findAll("button").map((b) => b.text())}`);
  await button.trigger("click");
  await flushPromises();
}

beforeEach(() => setLocale("en"));
afterEach(() => document.body.replaceChildren());

describe("strategy API calls", () => {
  it("sends source only when it is not JoinQuant", async () => {
    const api = useApi(json(201, {}), json(201, {}));
    await createStrategy({ name: "a" });
    await createStrategy({ name: "b", source: "quantdinger", signalTtlSeconds: 60 });
    expect(api.calls.map((c) => c.body)).toEqual([{ name: "a" }, { name: "b", source: "quantdinger", signalTtlSeconds: 60 }]);
  });

  it("filters the timeline on the server with ?status= and pages with before", async () => {
    const api = useApi(json(200, { items: [], nextBefore: null }));
    await listSignals("stg_1", { status: "PARTIALLY_EXECUTED", before: "sig_9" });
    const url = new URL(api.calls[0]!.url, "https://x");
    expect(url.pathname).toBe("/api/strategies/stg_1/signals");
    expect(Object.fromEntries(url.searchParams)).toEqual({ limit: "50", before: "sig_9", status: "PARTIALLY_EXECUTED" });
  });
});

describe("StrategyCard", () => {
  it("pauses only after the owner confirms what pausing does, and shows it paused", async () => {
    const api = useApi(json(200, { ...STRATEGY, paused: true }));
    const wrapper = mount(StrategyCard, { props: { strategy: STRATEGY }, global: { plugins: [router()] }, attachTo: document.body });
    await press(wrapper, "Pause (kill switch)");
    expect(api.calls).toHaveLength(0);
    expect(wrapper.text()).toContain("recorded as Held and delivered to no terminal, then or later");
    await press(wrapper, "Confirm: Pause (kill switch)");
    expect(api.calls[0]!.init.method).toBe("PATCH");
    expect(api.calls[0]!.body).toEqual({ paused: true });
    const [updated, notice] = wrapper.emitted("changed")![0] as [Strategy, string];
    expect(updated.paused).toBe(true);
    expect(notice).toContain("is paused");
    await wrapper.setProps({ strategy: updated });
    expect(wrapper.get("[data-testid=paused]").text()).toBe("Paused");
    expect(wrapper.findAll("button").map((b) => b.text())).toContain("Resume");
  });

  it("renames with PATCH {name}, and a refused name is shown in words", async () => {
    const api = useApi(
      json(400, { code: "VALIDATION_ERROR", message: "bad", details: [{ field: "name", message: "too long" }] }),
      json(200, { ...STRATEGY, name: "新名字" }),
    );
    const wrapper = mount(StrategyCard, { props: { strategy: STRATEGY }, global: { plugins: [router()] }, attachTo: document.body });
    await press(wrapper, "Rename");
    await wrapper.get("input[maxlength='100']").setValue("x");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(wrapper.get("[role=alert]").text()).toContain("too long");
    await wrapper.get("input[maxlength='100']").setValue("新名字");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(api.calls.map((c) => [c.init.method, c.body])).toEqual([
      ["PATCH", { name: "x" }],
      ["PATCH", { name: "新名字" }],
    ]);
    expect(wrapper.emitted("changed")![0]![1]).toBe("“双均线” is now called “新名字”.");
  });

  it("deletes after a confirmation that says the signals go with it", async () => {
    const api = useApi(new Response(null, { status: 204 }));
    const wrapper = mount(StrategyCard, { props: { strategy: STRATEGY }, global: { plugins: [router()] }, attachTo: document.body });
    await press(wrapper, "Delete");
    expect(wrapper.text()).toContain("all its signals");
    expect(wrapper.text()).toContain("dropped, never executed");
    await press(wrapper, "Confirm: Delete");
    expect(api.calls[0]!.init.method).toBe("DELETE");
    expect(api.calls[0]!.url).toBe("/api/strategies/stg_1");
    expect(wrapper.emitted("changed")![0]).toEqual([null, "Strategy “双均线” is deleted, with its signals."]);
  });

  it("offers Inject code for JoinQuant strategies only", () => {
    useApi();
    const jq = mount(StrategyCard, { props: { strategy: STRATEGY }, global: { plugins: [router()] } });
    expect(jq.text()).toContain("Inject code");
    const tv = mount(StrategyCard, { props: { strategy: { ...STRATEGY, source: "tradingview" } }, global: { plugins: [router()] } });
    expect(tv.text()).not.toContain("Inject code");
    expect(tv.get("[data-testid=source]").text()).toBe("TradingView");
  });
});

describe("per-source secrets", () => {
  const url = "https://api.example.com/api/webhooks/quantdinger/stg_1";

  it("QuantDinger: URL, token and signing secret", () => {
    const fields = sourceSecrets("quantdinger", url, { webhookToken: "qlw_t", signingSecret: "qds_s" });
    expect(fields.map((f) => [f.label, f.value, f.secret])).toEqual([
      ["strategies.webhookUrl", url, false],
      ["strategies.webhookToken", "qlw_t", true],
      ["sources.quantdinger.signingSecret", "qds_s", true],
    ]);
    expect(fields.map((f) => f.where)).toEqual(["sources.quantdinger.where.url", "sources.quantdinger.where.token", "sources.quantdinger.where.secret"]);
  });

  it("TradingView: the URL carries the token unless the alert message does", () => {
    const tv = "https://api.example.com/api/webhooks/tradingview/stg_1";
    expect(tradingViewUrl(tv, "qlw/t", undefined)).toBe(`${tv}?token=qlw%2Ft`);
    expect(tradingViewUrl(tv, "qlw_t", '{"token": "qlw_t"}')).toBe(tv);
    expect(tradingViewUrl(`${tv}?token=qlw_t`, "qlw_t", "{}")).toBe(`${tv}?token=qlw_t`);
    const fields = sourceSecrets("tradingview", tv, { webhookToken: "qlw_t", alertTemplate: '{"token": "qlw_t", "side": "{{strategy.order.action}}"}' });
    expect(fields.map((f) => f.label)).toEqual(["sources.tradingview.url", "sources.tradingview.alertTemplate"]);
    expect(fields[1]!.multiline).toBe(true);
    expect(fields.map((f) => f.where)).toEqual(["sources.tradingview.where.url", "sources.tradingview.where.message"]);
  });

  it("the create form sends the chosen source and shows its secrets once", async () => {
    const created = {
      ...STRATEGY,
      source: "quantdinger",
      webhookUrl: "https://api.example.com/api/webhooks/quantdinger/stg_1",
      webhookToken: "qlw_token",
      signingSecret: "qds_secret",
    };
    const api = useApi(json(200, { items: [] }), json(201, created));
    const wrapper = mount(StrategiesView, { global: { plugins: [router()] }, attachTo: document.body });
    await flushPromises();
    await wrapper.get("input[value=quantdinger]").setValue(true);
    await wrapper.get("#strategy-name").setValue("QD 1");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(api.calls[1]!.body).toEqual({ name: "QD 1", source: "quantdinger" });
    const panel = wrapper.get("[data-testid=secret-panel]");
    expect(panel.findAll("input").map((i) => (i.element as HTMLInputElement).value)).toEqual([created.webhookUrl, "qlw_token", "qds_secret"]);
    expect(panel.text()).toContain("signing secret");
    // Each value says where in QuantDinger it goes, tied to its field for screen readers.
    const secretInput = panel.findAll("input")[2]!;
    const where = panel.get(`#${secretInput.attributes("aria-describedby")}`);
    expect(where.text()).toContain("QuantDinger: the same webhook's signing secret");
    await press(wrapper, "I saved it");
    expect(wrapper.html()).not.toContain("qds_secret");
    expect(wrapper.get("[data-testid=source]").text()).toBe("QuantDinger");
  });
});

describe("mergeSignals", () => {
  const sig = (id: string, at: string, status: Signal["status"] = "QUEUED"): Signal =>
    ({ signalId: id, receivedAt: at, status, deliveries: [] }) as unknown as Signal;
  const a = sig("sig_a", "2026-11-20T01:00:01Z");
  const b = sig("sig_b", "2026-11-20T01:00:02Z");
  const c = sig("sig_c", "2026-11-20T01:00:03Z");

  it("drops a loaded signal that the re-read newest page no longer holds in its range", () => {
    // Filter QUEUED: b was executed meanwhile, so the newest page now holds c only (and a beyond it).
    expect(mergeSignals([c, b, a], [c], "sig_b").map((s) => s.signalId)).toEqual(["sig_c", "sig_a"]);
    expect(mergeSignals([c, b, a], [c], null).map((s) => s.signalId)).toEqual(["sig_c"]);
  });

  it("adds older pages and replaces a signal read again", () => {
    const bExecuted = sig("sig_b", b.receivedAt, "EXECUTED");
    expect(mergeSignals([c], [bExecuted, a], null, true).map((s) => s.signalId)).toEqual(["sig_c", "sig_b", "sig_a"]);
    expect(mergeSignals([c, b, a], [c, bExecuted], "sig_b").find((s) => s.signalId === "sig_b")!.status).toBe("EXECUTED");
  });

  it("keeps what lies beyond the scanned range when a filtered page found nothing there", () => {
    expect(mergeSignals([c, b, a], [], "sig_b").map((s) => s.signalId)).toEqual(["sig_a"]);
  });
});
