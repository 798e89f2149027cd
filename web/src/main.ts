import { createApp, h } from "vue";

import App from "./App.vue";
import { loadRuntimeConfig } from "./config";
import { t } from "./i18n";
import { buildRouter } from "./router";
import { initServices } from "./services";
import "./styles.css";

async function start(): Promise<void> {
  const root = document.getElementById("app")!;
  let config;
  try {
    config = await loadRuntimeConfig();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    createApp({ render: () => h("main", { class: "fatal", role: "alert" }, t("app.configFailed", { detail })) }).mount(root);
    return;
  }
  const { session } = initServices(config);
  const router = buildRouter(session);
  // Another tab signed in or out: follow it.
  window.addEventListener("storage", () => session.syncFromStorage());
  createApp(App).use(router).mount(root);
}

void start();
