import { afterEach, describe, expect, it } from "vitest";

import { ApiError } from "../src/api/http";
import { CognitoError } from "../src/auth/cognito";
import { detectLocale, locale, setLocale, t } from "../src/i18n";
import en from "../src/i18n/en";
import { errorText } from "../src/i18n/errors";
import zhCN from "../src/i18n/zh-CN";

type Tree = { [key: string]: string | Tree };

function leaves(tree: Tree, prefix = ""): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === "string") found.set(prefix + key, value);
    else for (const [k, v] of leaves(value, `${prefix}${key}.`)) found.set(k, v);
  }
  return found;
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

// Every code API.md names (../shared/API.md "Errors"), plus what the client itself can meet.
const API_CODES = [
  "UNAUTHORIZED", "FORBIDDEN", "PLAN_REQUIRED", "NOT_FOUND", "DEVICE_TAKEN_OVER", "CONFLICT",
  "TERMINAL_LIMIT_REACHED", "INVITATION_EXPIRED", "INVITATION_REVOKED", "INVITATION_USED_UP",
  "VALIDATION_ERROR", "PAYLOAD_TOO_LARGE", "RATE_LIMITED", "UNAVAILABLE", "INTERNAL_ERROR", "NETWORK",
];

afterEach(() => setLocale("en"));

describe("messages", () => {
  it("zh-CN has every English key, none empty, with the same placeholders", () => {
    const english = leaves(en as unknown as Tree);
    const chinese = leaves(zhCN as unknown as Tree);
    expect([...chinese.keys()].sort()).toEqual([...english.keys()].sort());
    for (const [key, text] of english) {
      expect(text.trim(), key).not.toBe("");
      expect(chinese.get(key)!.trim(), key).not.toBe("");
      expect(placeholders(chinese.get(key)!), key).toEqual(placeholders(text));
    }
  });

  it("defaults to Chinese for a Chinese browser, English otherwise", () => {
    expect(detectLocale(["zh-CN", "en"])).toBe("zh-CN");
    expect(detectLocale(["zh-TW"])).toBe("zh-CN");
    expect(detectLocale(["zh"])).toBe("zh-CN");
    expect(detectLocale(["en-US", "zh-CN"])).toBe("en");
    expect(detectLocale([""])).toBe("en");
  });

  it("switches language, fills placeholders and marks the document", () => {
    setLocale("zh-CN");
    expect(t("strategies.created", { name: "双均线" })).toContain("双均线");
    expect(t("screens.terminals")).toBe("终端");
    expect(locale.value).toBe("zh-CN");
    expect(sessionStorage.getItem("quantlink.locale")).toBe("zh-CN");
    setLocale("en");
    expect(t("screens.terminals")).toBe("Terminals");
  });
});

describe("errorText", () => {
  it("has words for every API.md error code in both languages", () => {
    for (const lang of ["en", "zh-CN"] as const) {
      setLocale(lang);
      for (const code of API_CODES) {
        const text = errorText(new ApiError(400, code, "server words"));
        expect(text, `${lang} ${code}`).not.toContain(code);
        expect(text.length, `${lang} ${code}`).toBeGreaterThan(4);
      }
    }
  });

  it("lists validation details", () => {
    const error = new ApiError(400, "VALIDATION_ERROR", "The body does not match the schema.", [
      { field: "sizing.multiplier", message: "Input should be less than or equal to 100" },
    ]);
    expect(errorText(error)).toBe("Some input is not valid: sizing.multiplier: Input should be less than or equal to 100");
  });

  it("still says what happened for a code it does not know", () => {
    expect(errorText(new ApiError(418, "TEAPOT", "I am a teapot"))).toBe("The request failed (TEAPOT): I am a teapot");
  });

  it("says 'wrong email or password' for a wrong password, in both languages", () => {
    const wrong = new CognitoError("NotAuthorizedException", "Incorrect username or password.");
    expect(errorText(wrong)).toBe("Wrong email or password.");
    // Real Cognito (PreventUserExistenceErrors) and moto differ for an unknown user; both read the same.
    expect(errorText(new CognitoError("UserNotFoundException", "x"))).toBe("Wrong email or password.");
    setLocale("zh-CN");
    expect(errorText(wrong)).toBe("邮箱或密码错误。");
  });

  it("names challenges and unknown Cognito errors", () => {
    expect(errorText(new CognitoError("Challenge_SMS_MFA", "SMS_MFA"))).toContain("SMS_MFA");
    expect(errorText(new CognitoError("HTTP500", ""))).toBe("Signing in failed (HTTP500).");
  });
});
