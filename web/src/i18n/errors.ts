// Every failure the owner can meet, in words of the current locale: the API's `code` (API.md)
// and Cognito's error type each map to a message; an unknown code still shows the server's message.

import { ApiError } from "../api/http";
import { CognitoError } from "../auth/cognito";
import { hasMessage, t } from "./index";

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const key = `errors.${error.code}`;
    if (error.code === "VALIDATION_ERROR") {
      const details = error.details.map((d) => `${d.field}: ${d.message}`).join("; ");
      return `${t("errors.VALIDATION_ERROR")} ${details || error.message}`;
    }
    if (hasMessage(key)) return t(key);
    return t("errors.unknown", { code: error.code, message: error.message });
  }
  if (error instanceof CognitoError) {
    if (error.type.startsWith("Challenge_")) return t("auth.errors.challenge", { detail: error.message });
    const key = `auth.errors.${error.type}`;
    if (hasMessage(key)) return t(key);
    return t("auth.errors.unknown", { detail: error.message || error.type });
  }
  return t("errors.unknown", { code: "CLIENT", message: error instanceof Error ? error.message : String(error) });
}
