import { flushPromises, mount } from "@vue/test-utils";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMemoryHistory, createRouter, type Router } from "vue-router";

import { listAudit } from "../src/api/admin";
import { ApiClient, configureApi } from "../src/api/http";
import type { Share } from "../src/api/types";
import { CognitoClient } from "../src/auth/cognito";
import { SESSION_KEY, SessionStore } from "../src/auth/session";
import ShareItem from "../src/components/ShareItem.vue";
import { setLocale } from "../src/i18n";
import { auditChange } from "../src/lib/audit";
import { forgetMe } from "../src/lib/me";
import { isoFromLocal, localFromIso, permissionLines } from "../src/lib/sharing";
import { buildRouter } from "../src/router";
import AuditView from "../src/views/AuditView.vue";
import BundlesView from "../src/views/BundlesView.vue";
import DriftView from "../src/views/DriftView.vue";
import InvitationView from "../src/views/InvitationView.vue";
import SharingView from "../src/views/SharingView.vue";
import { COGNITO, json, MemoryStorage, scriptedFetch } from "./helpers";

function session(): SessionStore {
  const storage = new MemoryStorage();
  storage.setItem(SESSION_KEY, JSON.stringify({ email: "o@example.com", userId: "u", idToken: "id", accessToken: "a", refreshToken: "r", expiresAt: Date.now() + 3600_000 }));
  return new SessionStore(() => new CognitoClient(COGNITO, scriptedFetch().fetcher), storage);
}

function useApi(...answers: Parameters<typeof scriptedFetch>) {
  const api = scriptedFetch(...answers);
  configureApi(new ApiClient("", session(), api.fetcher));
  return api;
}

function testRouter(routes: { path: string; name: string }[] = []): Router {
  return createRouter({
    history: createMemoryHistory(),
    routes: [...routes.map((r) => ({ ...r, component: { template: "<div />" } })), { path: "/:any(.*)*", name: "any", component: { template: "<div />" } }],
  });
}

async function mounted<T>(component: T, path = "/", routes: { path: string; name: string }[] = []) {
  const router = testRouter(routes);
  await router.push(path);
  const wrapper = mount(component as never, { global: { plugins: [router] }, attachTo: document.body });
  await flushPromises();
  return { wrapper, router };
}

const button = (wrapper: ReturnType<typeof mount>, label: string) => {
  const found = wrapper.findAll("button").find((b) => b.text() === label);
  if (!found) throw new Error(`no button ${label}: ${wrapper.findAll("button").map((b) => b.text()).join(" | ")}`);
  return found;
};

const PERMS = { canPause: true, canDelete: false, terminalLimit: 2 };
const SHARE: Share = {
  shareId: "shr_1",
  strategyId: "stg_1",
  strategyName: "双均线",
  owner: { userId: "u-owner", email: "owner@example.com" },
  recipient: { userId: "u-friend", email: "friend@example.com" },
  via: "direct",
  viaId: "inv_1",
  permissions: PERMS,
  expiresAt: null,
  paused: false,
  status: "active",
  createdAt: "2026-11-20T01:00:00Z",
};
const STRATEGY = { strategyId: "stg_1", name: "双均线", webhookUrl: "https://x/api/webhooks/joinquant/stg_1", signalTtlSeconds: 300, paused: false, createdAt: "2026-11-20T01:00:00Z" };
const ME = { userId: "u", email: "o@example.com", plan: "pro", admin: false, limits: {} };

beforeEach(() => {
  setLocale("en");
  forgetMe();
});
afterEach(() => document.body.replaceChildren());

describe("sharing helpers", () => {
  it("says in words what each permission allows", () => {
    expect(permissionLines(PERMS)).toEqual(["Up to 2 terminal(s) receive its signals.", "May pause and resume it.", "May not remove the share."]);
  });

  it("turns datetime-local values into ISO times and back", () => {
    const iso = isoFromLocal("2026-12-24T09:30")!;
    expect(new Date(iso).getTime()).toBe(new Date(2026, 11, 24, 9, 30).getTime());
    expect(localFromIso(iso)).toBe("2026-12-24T09:30");
    expect(isoFromLocal("")).toBeUndefined();
  });

  it("shows what an audit entry changed", () => {
    expect(auditChange({ before: { paused: false, name: "a" }, after: { paused: true, name: "a" } })).toBe("paused: false → true");
    expect(auditChange({ before: null, after: { plan: "pro" } })).toBe('— → {"plan":"pro"}');
    expect(auditChange({ before: null, after: null })).toBe("");
  });
});

describe("SharingView", () => {
  it("creates a link invitation with permissions and shows its URL once", async () => {
    const api = useApi(
      json(200, { items: [STRATEGY] }),
      json(200, { items: [] }),
      json(200, { items: [] }),
      json(200, { items: [] }),
      json(200, { items: [] }),
      json(200, ME),
      json(201, { invitationId: "inv_1", kind: "link", url: "https://app.example.com/#/invitations/tok_secret", expiresAt: null, status: "pending" }),
    );
    const { wrapper } = await mounted(SharingView);
    await wrapper.get("input[type=number][min='1'][max='100']").setValue("3");
    await wrapper.get("input[type=checkbox]").setValue(true);
    await wrapper.get("#invite-uses").setValue("5");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    const call = api.calls.find((c) => c.url === "/api/invitations" && c.init.method === "POST")!;
    expect(call.body).toEqual({ strategyId: "stg_1", permissions: { canPause: true, canDelete: false, terminalLimit: 3 }, maxUses: 5 });
    const panel = wrapper.get("[data-testid=secret-panel]");
    expect((panel.get("input").element as HTMLInputElement).value).toBe("https://app.example.com/#/invitations/tok_secret");
    await button(wrapper, "I saved it").trigger("click");
    expect(wrapper.html()).not.toContain("tok_secret");
    expect(wrapper.get("[data-testid=invitation]").text()).toContain("Pending");
  });

  it("an email invitation carries the address and no link-only fields", async () => {
    const api = useApi(
      json(200, { items: [STRATEGY] }),
      json(200, { items: [] }),
      json(200, { items: [] }),
      json(200, { items: [] }),
      json(200, { items: [] }),
      json(200, ME),
      json(201, { invitationId: "inv_2", kind: "email", url: "https://app/#/invitations/t2", expiresAt: "2026-11-27T01:00:00Z", status: "pending" }),
    );
    const { wrapper } = await mounted(SharingView);
    await wrapper.get("input[value=email]").setValue(true);
    await wrapper.get("#invite-email").setValue("Friend@Example.com");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    const call = api.calls.find((c) => c.url === "/api/invitations" && c.init.method === "POST")!;
    expect(call.body).toEqual({ strategyId: "stg_1", email: "Friend@Example.com", permissions: { canPause: false, canDelete: false, terminalLimit: 1 } });
    expect(wrapper.text()).toContain("Invitation sent");
  });

  it("a free plan is told before filling in the form, and PLAN_REQUIRED is said in words", async () => {
    useApi(
      json(200, { items: [STRATEGY] }),
      json(200, { items: [] }),
      json(403, { code: "PLAN_REQUIRED", message: "Sharing needs a paid plan." }),
      json(200, { items: [] }),
      json(200, { items: [SHARE] }),
      json(200, { ...ME, plan: "free" }),
    );
    const { wrapper } = await mounted(SharingView);
    expect(wrapper.get("[data-testid=plan-notice]").text()).toContain("Sharing needs a paid plan (yours is free)");
    expect(wrapper.get("[role=alert]").text()).toBe("Your plan does not include this.");
    expect(wrapper.get("[data-testid=received-shares]").text()).toContain("双均线");
    // One refused list does not blank the others: the strategies are still there to share.
    expect(wrapper.get("#invite-what").text()).toContain("双均线");
  });
});

describe("ShareItem", () => {
  it("a recipient may pause with canPause but not remove without canDelete", async () => {
    const api = useApi(json(200, { ...SHARE, paused: true, status: "paused" }));
    const wrapper = mount(ShareItem, { props: { share: SHARE, as: "recipient" } });
    expect(wrapper.text()).toContain("owner@example.com");
    expect(wrapper.findAll("button").map((b) => b.text())).toEqual(["Pause"]);
    await button(wrapper, "Pause").trigger("click");
    await flushPromises();
    expect(api.calls[0]!.init.method).toBe("PATCH");
    expect(api.calls[0]!.body).toEqual({ paused: true });
  });

  it("a recipient without canPause sees no pause button; FORBIDDEN would be said in words", async () => {
    useApi();
    const wrapper = mount(ShareItem, { props: { share: { ...SHARE, permissions: { ...PERMS, canPause: false, canDelete: true } }, as: "recipient" } });
    expect(wrapper.findAll("button").map((b) => b.text())).toEqual(["Remove"]);
    expect(wrapper.text()).toContain("May not pause it.");
  });

  it("the owner changes permissions and revokes after confirming", async () => {
    const api = useApi(json(200, { ...SHARE, permissions: { ...PERMS, terminalLimit: 5 } }), new Response(null, { status: 204 }));
    const wrapper = mount(ShareItem, { props: { share: SHARE, as: "owner" }, attachTo: document.body });
    expect(wrapper.text()).toContain("friend@example.com");
    await button(wrapper, "Change permissions").trigger("click");
    await wrapper.get("input[type=number]").setValue("5");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(api.calls[0]!.body).toEqual({ permissions: { ...PERMS, terminalLimit: 5 }, expiresAt: null });
    await button(wrapper, "Revoke").trigger("click");
    await button(wrapper, "Confirm: Revoke").trigger("click");
    await flushPromises();
    expect(api.calls[1]!.init.method).toBe("DELETE");
    expect(api.calls[1]!.url).toBe("/api/shares/shr_1");
    expect(wrapper.emitted("changed")!.at(-1)).toEqual([null, "The share of “双均线” with friend@example.com is revoked."]);
  });
});

describe("InvitationView", () => {
  const preview = {
    owner: { email: "owner@example.com" },
    strategies: [{ strategyId: "stg_1", name: "双均线" }],
    bundle: null,
    permissions: PERMS,
    shareExpiresAt: null,
    expiresAt: "2026-11-27T01:00:00Z",
    status: "pending",
  };

  it("shows who invites to what, accepts, and points to the terminals", async () => {
    const api = useApi(json(200, preview), json(200, { shares: [SHARE] }));
    const { wrapper } = await mounted(InvitationView, "/invitations/tok_abc", [{ path: "/invitations/:token", name: "invitation" }, { path: "/terminals", name: "terminals" }]);
    expect(api.calls[0]!.body).toEqual({ token: "tok_abc" });
    expect(wrapper.text()).toContain("owner@example.com invites you");
    expect(wrapper.get("[data-testid=invitation-strategies]").text()).toBe("双均线");
    await button(wrapper, "Accept invitation").trigger("click");
    await flushPromises();
    expect(api.calls[1]!.url).toBe("/api/invitations/accept");
    expect(wrapper.get("[role=status]").text()).toBe("Accepted: 1 strategy(ies) are shared with you.");
  });

  it("reads the new invitation when another link is opened on the same page", async () => {
    const api = useApi(json(200, preview), json(200, { ...preview, status: "revoked", strategies: [{ strategyId: "stg_2", name: "Beta" }] }));
    const { wrapper, router } = await mounted(InvitationView, "/invitations/tok_abc", [{ path: "/invitations/:token", name: "invitation" }]);
    expect(wrapper.text()).toContain("Accept invitation");
    await router.push("/invitations/tok_def");
    await flushPromises();
    expect(api.calls[1]!.body).toEqual({ token: "tok_def" });
    expect(wrapper.get("[data-testid=invitation-strategies]").text()).toBe("Beta");
    expect(wrapper.text()).toContain("This invitation was revoked by its owner.");
    expect(wrapper.text()).not.toContain("Accept invitation");
  });

  it("says why an invitation cannot be accepted", async () => {
    useApi(json(200, preview), json(403, { code: "FORBIDDEN", message: "not for you" }));
    const { wrapper } = await mounted(InvitationView, "/invitations/tok_abc", [{ path: "/invitations/:token", name: "invitation" }]);
    await button(wrapper, "Accept invitation").trigger("click");
    await flushPromises();
    expect(wrapper.text()).toContain("it is your own, or it was sent to another email address");
  });

  it("an invitation that expires while its page is open is shown as it now is once the click is refused", async () => {
    const api = useApi(
      json(200, preview),
      json(410, { code: "INVITATION_EXPIRED", message: "expired" }),
      json(200, { ...preview, status: "expired" }),
    );
    const { wrapper } = await mounted(InvitationView, "/invitations/tok_abc", [{ path: "/invitations/:token", name: "invitation" }]);
    await button(wrapper, "Accept invitation").trigger("click");
    await flushPromises();
    expect(api.calls[2]!.body).toEqual({ token: "tok_abc" }); // read again after the refusal
    expect(wrapper.get("[data-testid=invitation-preview] .badge").text()).toBe("Expired");
    expect(wrapper.text()).toContain("This invitation has expired. Ask the owner for a new one.");
    expect(wrapper.text()).not.toContain("Accept invitation");
  });

  it("an expired invitation says so in words", async () => {
    useApi(json(410, { code: "INVITATION_EXPIRED", message: "expired" }));
    const { wrapper } = await mounted(InvitationView, "/invitations/tok_old", [{ path: "/invitations/:token", name: "invitation" }]);
    expect(wrapper.get("[role=alert]").text()).toBe("This invitation has expired.");
  });
});

describe("BundlesView", () => {
  it("creates a bundle from chosen strategies and shows its sg_ code", async () => {
    const bundle = { bundleId: "sg_abc123", name: "Core", strategyIds: ["stg_1"], permissions: PERMS, members: [] };
    const api = useApi(json(200, { items: [STRATEGY] }), json(200, { items: [] }), json(200, ME), json(201, bundle));
    const { wrapper } = await mounted(BundlesView, "/bundles", [{ path: "/sharing", name: "sharing" }]);
    expect(wrapper.get("[data-testid=empty-state]").text()).toContain("No bundles yet");
    await wrapper.get("#bundle-name").setValue("Core");
    await wrapper.findAll("input[type=checkbox]").at(0)!.setValue(true);
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(api.calls.at(-1)!.body).toEqual({ name: "Core", strategyIds: ["stg_1"], permissions: { canPause: false, canDelete: false, terminalLimit: 1 } });
    expect((wrapper.get("[data-testid=bundle] input[readonly]").element as HTMLInputElement).value).toBe("sg_abc123");
  });
});

describe("admin gating", () => {
  it("the admin area is a missing page for a normal user, and there for an admin", async () => {
    useApi(json(200, ME));
    const router = buildRouter(session());
    await router.push("/admin");
    expect(router.currentRoute.value.name).toBe("not-found");
    forgetMe();
    useApi(json(200, { ...ME, admin: true }));
    const adminRouter = buildRouter(session());
    await adminRouter.push("/admin");
    expect(adminRouter.currentRoute.value.name).toBe("admin");
  });

  it("an API without /api/me means no admin area", async () => {
    useApi(json(404, { code: "NOT_FOUND", message: "no" }));
    const router = buildRouter(session());
    await router.push("/admin");
    expect(router.currentRoute.value.name).toBe("not-found");
  });
});

describe("AuditView", () => {
  it("sends the filters and pages with nextCursor", async () => {
    const entry = (id: string) => ({
      auditId: id,
      at: "2026-11-20T01:00:00Z",
      actor: { userId: "u", email: "o@example.com" },
      action: "strategy.paused",
      target: { kind: "strategy", id: "stg_1" },
      strategyId: "stg_1",
      before: { paused: false },
      after: { paused: true },
      requestId: "req-1",
      sourceIp: "127.0.0.1",
    });
    const api = useApi(
      json(200, { items: [STRATEGY] }),
      json(200, { items: [entry("a1")], nextCursor: null }),
      json(200, { items: [entry("a2")], nextCursor: "cur_2" }),
      json(200, { items: [entry("a3")], nextCursor: null }),
    );
    const { wrapper } = await mounted(AuditView);
    await wrapper.get("#audit-action").setValue("strategy.paused");
    await wrapper.get("#audit-strategy").setValue("stg_1");
    await wrapper.get("form").trigger("submit");
    await flushPromises();
    expect(new URL(api.calls[2]!.url, "https://x").searchParams.toString()).toBe("strategyId=stg_1&action=strategy.paused&limit=50");
    expect(wrapper.get("[data-testid=audit-entry]").text()).toContain("paused: false → true");
    await button(wrapper, "Load more").trigger("click");
    await flushPromises();
    expect(new URL(api.calls[3]!.url, "https://x").searchParams.get("cursor")).toBe("cur_2");
    expect(wrapper.findAll("[data-testid=audit-entry]")).toHaveLength(2);
  });

  it("listAudit leaves out empty filters", async () => {
    const api = useApi(json(200, { items: [], nextCursor: null }));
    await listAudit({ strategyId: "", actor: undefined, limit: 10 });
    expect(api.calls[0]!.url).toBe("/api/audit?limit=10");
  });
});

describe("DriftView", () => {
  const terminal = { terminalId: "trm_1", name: "desk", kind: "qmt", deviceBound: true, deviceBoundAt: null, lastSeenAt: null, createdAt: "2026-11-20T01:00:00Z" };
  const report = {
    terminalId: "trm_1",
    date: "2026-11-20",
    status: "drift",
    score: 0.125,
    threshold: 0.05,
    rows: [
      { security: "600000.SH", expectedVolume: 1200, actualVolume: 1000, diffVolume: -200, expectedValue: 12000, actualValue: 10000, expectedWeight: 0.12, actualWeight: 0.1, withinLotBound: false },
      { security: "000001.SZ", expectedVolume: 500, actualVolume: 500, diffVolume: 0, expectedValue: 5000, actualValue: 5000, expectedWeight: 0.05, actualWeight: 0.05, withinLotBound: true },
    ],
    sync: [{ security: "600000.SH", side: "buy", amount: 200 }],
    computedAt: "2026-11-20T07:20:00Z",
  };

  it("shows the report per security and sends the sync orders after confirming", async () => {
    const api = useApi(json(200, terminal), json(200, report), json(200, { items: [{ date: "2026-11-19", score: 0.01 }, { date: "2026-11-20", score: 0.125 }] }), json(202, { signals: 1 }));
    const { wrapper } = await mounted(DriftView, "/terminals/trm_1/drift", [{ path: "/terminals/:terminalId/drift", name: "drift" }]);
    expect(wrapper.get("[data-testid=drift-score]").text()).toBe("Score 12.50% of the terminal's value misplaced (threshold 5.00%)");
    const rows = wrapper.findAll("[data-testid=drift-row]");
    expect(rows[0]!.text()).toContain("-200");
    expect(rows[0]!.classes()).toContain("off");
    expect(wrapper.get("[data-testid=sync-orders]").text()).toBe("Buy 200 600000.SH");
    await button(wrapper, "Send 1 sync order(s)").trigger("click");
    await button(wrapper, "Confirm: Send 1 sync order(s)").trigger("click");
    await flushPromises();
    expect(api.calls[3]!.url).toBe("/api/terminals/trm_1/drift/sync");
    expect(api.calls[3]!.body).toEqual({ date: "2026-11-20" });
    expect(wrapper.get("[role=status]").text()).toBe("1 sync signal(s) sent to “desk”.");
  });

  it("says what to do when there is no report yet", async () => {
    useApi(json(200, terminal), json(404, { code: "NOT_FOUND", message: "none" }), json(200, { items: [] }));
    const { wrapper } = await mounted(DriftView, "/terminals/trm_1/drift", [{ path: "/terminals/:terminalId/drift", name: "drift" }]);
    expect(wrapper.get("[data-testid=empty-state]").text()).toContain("Compute now");
    expect(wrapper.find("[role=alert]").exists()).toBe(false);
  });
});
