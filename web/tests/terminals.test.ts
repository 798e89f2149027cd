import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryHistory, createRouter } from "vue-router";

import { ApiClient, configureApi } from "../src/api/http";
import { CognitoClient } from "../src/auth/cognito";
import { SESSION_KEY, SessionStore } from "../src/auth/session";
import AgentConfigForm from "../src/components/AgentConfigForm.vue";
import { setLocale } from "../src/i18n";
import { agentConfigToml, apiHostPort, PTRADE_SCRIPT_COMMAND } from "../src/lib/agentConfig";
import * as browser from "../src/lib/browser";
import { COGNITO, json, MemoryStorage, scriptedFetch } from "./helpers";

vi.mock("../src/services", () => ({ useServices: () => ({ config: { publicApiBase: "https://api.example.com:8443" } }) }));

const { default: TerminalsView } = await import("../src/views/TerminalsView.vue");

function useApi(...answers: Parameters<typeof scriptedFetch>) {
  const storage = new MemoryStorage();
  storage.setItem(SESSION_KEY, JSON.stringify({ email: "o@example.com", userId: "u", idToken: "id", accessToken: "a", refreshToken: "r", expiresAt: Date.now() + 3600_000 }));
  const session = new SessionStore(() => new CognitoClient(COGNITO, scriptedFetch().fetcher), storage);
  const api = scriptedFetch(...answers);
  configureApi(new ApiClient("", session, api.fetcher));
  return api;
}

const INPUT = {
  apiBase: "https://api.example.com/prod",
  authToken: "trm_1.secret",
  terminalId: "trm_1",
  terminalName: "PTrade 国金",
  executor: "ptrade" as const,
  userdataPath: "",
  accountId: "",
  initialCash: 0,
};

beforeEach(() => setLocale("en"));
afterEach(() => {
  document.body.replaceChildren();
  vi.restoreAllMocks();
});

describe("PTrade config", () => {
  it("writes executor ptrade with its [ptrade] table and no miniQMT or paper section", () => {
    const text = agentConfigToml({ ...INPUT, pollSeconds: 7, filesPrefix: "gj-1" });
    expect(text).toContain('executor = "ptrade"');
    expect(text).toContain("[ptrade]\n");
    expect(text).toContain("poll_seconds = 7\n");
    expect(text).toContain('files_prefix = "gj-1"\n');
    expect(text).toContain(PTRADE_SCRIPT_COMMAND);
    expect(text).toContain("doctor --config ptrade.toml");
    expect(text).not.toMatch(/\[(xtquant|paper|polling)\]|^journal =/m);
  });

  it("names the API's host and port for the broker's allow list", () => {
    expect(apiHostPort("https://abc.execute-api.ap-east-1.amazonaws.com/prod")).toBe("abc.execute-api.ap-east-1.amazonaws.com:443");
    expect(apiHostPort("http://127.0.0.1:3000")).toBe("127.0.0.1:3000");
  });

  it("the form for a PTrade terminal shows what PTrade needs and downloads ptrade.toml", async () => {
    const download = vi.spyOn(browser, "downloadText").mockImplementation(() => {});
    const wrapper = mount(AgentConfigForm, {
      props: { apiBase: "https://api.example.com:8443", authToken: "trm_1.secret", terminalId: "trm_1", terminalName: "p", kind: "ptrade" },
    });
    expect(wrapper.get("[data-testid=ptrade-needs]").text()).toContain("api.example.com:8443");
    expect(wrapper.get("[data-testid=ptrade-steps]").text()).toContain(PTRADE_SCRIPT_COMMAND);
    expect(wrapper.text()).not.toContain("miniQMT userdata_mini folder");
    await wrapper.get("form").trigger("submit");
    const [name, text] = download.mock.calls[0]!;
    expect(name).toBe("ptrade.toml");
    expect(text).toContain('executor = "ptrade"');
  });
});

describe("TerminalsView", () => {
  it("registers the chosen kind and shows the PTrade set-up with the token once", async () => {
    const created = {
      terminalId: "trm_1",
      name: "gj",
      kind: "ptrade",
      deviceBound: false,
      deviceBoundAt: null,
      lastSeenAt: null,
      createdAt: "2026-11-20T01:00:00Z",
      authToken: "trm_1.secret",
    };
    const api = useApi(json(200, { items: [] }), json(200, { items: [] }), json(200, { items: [] }), json(201, created));
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: "/:any(.*)*", name: "drift", component: { template: "<div />" } }] });
    const wrapper = mount(TerminalsView, { global: { plugins: [router] }, attachTo: document.body });
    await flushPromises();
    await wrapper.get("input[value=ptrade]").setValue(true);
    await wrapper.get("#terminal-name").setValue("gj");
    await wrapper.findAll("form")[0]!.trigger("submit");
    await flushPromises();
    expect(api.calls[3]!.body).toEqual({ name: "gj", kind: "ptrade" });
    expect(wrapper.get("[data-testid=secret-panel]").text()).toContain("PTrade set-up");
    expect(wrapper.get("[data-testid=kind]").text()).toBe("PTrade");
  });
});
