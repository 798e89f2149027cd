// Every screen is one entry here: a path, a lazily loaded view, its title and, for the main
// screens, a navigation label. A new screen (sharing, drift, audit, admin) is one view, one API
// module under src/api/, and one entry below.

import { createRouter, createWebHashHistory, type RouteRecordRaw, type Router } from "vue-router";

import type { SessionStore } from "./auth/session";
import type { MessageKey } from "./i18n/messages";
import { loadMe } from "./lib/me";

export interface Screen {
  path: string;
  name: string;
  component: RouteRecordRaw["component"];
  title: MessageKey;
  /** Shown in the main navigation under this label. */
  nav?: MessageKey;
  /** Reachable without signing in. */
  public?: boolean;
  /** Shown and reachable only for admins (GET /api/me says admin). */
  admin?: boolean;
}

export const screens: Screen[] = [
  { path: "/sign-in", name: "sign-in", component: () => import("./views/SignInView.vue"), title: "screens.signIn", public: true },
  { path: "/sign-up", name: "sign-up", component: () => import("./views/SignUpView.vue"), title: "screens.signUp", public: true },
  { path: "/strategies", name: "strategies", component: () => import("./views/StrategiesView.vue"), title: "screens.strategies", nav: "screens.strategies" },
  { path: "/strategies/:strategyId/inject", name: "inject", component: () => import("./views/InjectView.vue"), title: "screens.inject" },
  { path: "/strategies/:strategyId/timeline", name: "timeline", component: () => import("./views/TimelineView.vue"), title: "screens.timeline" },
  { path: "/terminals", name: "terminals", component: () => import("./views/TerminalsView.vue"), title: "screens.terminals", nav: "screens.terminals" },
  { path: "/terminals/:terminalId/drift", name: "drift", component: () => import("./views/DriftView.vue"), title: "screens.drift" },
  { path: "/sharing", name: "sharing", component: () => import("./views/SharingView.vue"), title: "screens.sharing", nav: "screens.sharing" },
  { path: "/bundles", name: "bundles", component: () => import("./views/BundlesView.vue"), title: "screens.bundles", nav: "screens.bundles" },
  { path: "/groups", name: "groups", component: () => import("./views/GroupsView.vue"), title: "screens.groups", nav: "screens.groups" },
  { path: "/audit", name: "audit", component: () => import("./views/AuditView.vue"), title: "screens.audit", nav: "screens.audit" },
  { path: "/admin", name: "admin", component: () => import("./views/AdminView.vue"), title: "screens.admin", nav: "screens.admin", admin: true },
  // The page behind an invitation link (…/#/invitations/<token>): signing in (or up) comes back here.
  { path: "/invitations/:token", name: "invitation", component: () => import("./views/InvitationView.vue"), title: "screens.invitation" },
];

export const HOME = "/strategies";

declare module "vue-router" {
  interface RouteMeta {
    title: MessageKey;
    public?: boolean;
    admin?: boolean;
  }
}

export function buildRouter(session: SessionStore): Router {
  const routes: RouteRecordRaw[] = [
    { path: "/", redirect: HOME },
    ...screens.map(
      (s): RouteRecordRaw => ({
        path: s.path,
        name: s.name,
        component: s.component!,
        meta: { title: s.title, public: s.public, admin: s.admin },
      }),
    ),
    {
      path: "/:pathMatch(.*)*",
      name: "not-found",
      component: () => import("./views/NotFoundView.vue"),
      meta: { title: "screens.notFound", public: true },
    },
  ];
  // Hash history: every deep link (…/#/strategies/…/timeline) is a request for index.html, so a
  // reload works on S3 static website hosting with no rewrite rule.
  const router = createRouter({ history: createWebHashHistory(), routes });
  router.beforeEach(async (to) => {
    const signedIn = session.signedIn.value;
    if (!to.meta.public && !signedIn) return { name: "sign-in", query: { redirect: to.fullPath } };
    if ((to.name === "sign-in" || to.name === "sign-up") && signedIn) return HOME;
    // The admin area is not there for anyone else: the same page as a missing one.
    if (to.meta.admin && !(await loadMe())?.admin) {
      return { name: "not-found", params: { pathMatch: to.path.slice(1).split("/") }, replace: true };
    }
    return true;
  });
  return router;
}
