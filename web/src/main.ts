import { createApp, h } from "vue";

import App from "./App.vue";
import { loadRuntimeConfig, type RuntimeConfig } from "./config";
import { t } from "./i18n";
import { buildRouter } from "./router";
import { createSession, initServices } from "./services";
import "./styles.css";

async function start(): Promise<void> {
  const root = document.getElementById("app")!;
  const session = createSession();
  // Installing the router starts the first navigation: the first screen's code loads while the
  // runtime config does, instead of after it.
  const app = createApp(App).use(buildRouter(session));
  let config: RuntimeConfig;
  try {
    config = await loadRuntimeConfig();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    createApp({ render: () => h("main", { class: "fatal", role: "alert" }, t("app.configFailed", { detail })) }).mount(root);
    return;
  }
  initServices(config, session);
  // Another tab signed in or out: follow it.
  window.addEventListener("storage", () => session.syncFromStorage());
  app.mount(root);
}

void start();
