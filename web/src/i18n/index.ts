// zh-CN and English. Chinese by default for a Chinese browser; the owner's choice lasts for the
// tab (sessionStorage): localStorage holds the Cognito session and nothing else.

import { ref, watchEffect } from "vue";

import en from "./en";
import type { MessageKey, Messages } from "./messages";
import zhCN from "./zh-CN";

export type Locale = "zh-CN" | "en";
export const LOCALES: readonly Locale[] = ["zh-CN", "en"];
export const LOCALE_NAMES: Record<Locale, string> = { "zh-CN": "中文", en: "English" };
const CATALOGS: Record<Locale, Messages> = { "zh-CN": zhCN, en };
const LOCALE_KEY = "quantlink.locale";

export function detectLocale(languages: readonly string[]): Locale {
  const first = (languages[0] ?? "").toLowerCase();
  return first.startsWith("zh") ? "zh-CN" : "en";
}

function initialLocale(): Locale {
  const saved = globalThis.sessionStorage?.getItem(LOCALE_KEY);
  if (saved && (LOCALES as readonly string[]).includes(saved)) return saved as Locale;
  const nav = globalThis.navigator;
  return detectLocale(nav?.languages?.length ? nav.languages : [nav?.language ?? ""]);
}

export const locale = ref<Locale>(initialLocale());

export function setLocale(next: Locale): void {
  locale.value = next;
  globalThis.sessionStorage?.setItem(LOCALE_KEY, next);
}

watchEffect(() => {
  if (globalThis.document) document.documentElement.lang = locale.value;
});

function lookup(messages: Messages, key: string): string | undefined {
  let node: unknown = messages;
  for (const part of key.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === "string" ? node : undefined;
}

export function hasMessage(key: string): key is MessageKey {
  return lookup(en, key) !== undefined;
}

/** The message for `key` in the current locale, with `{name}` placeholders filled. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = lookup(CATALOGS[locale.value], key) ?? lookup(en, key) ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}
