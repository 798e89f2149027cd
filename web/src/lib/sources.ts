// What the owner copies into each signal source once a strategy is created or its token rotated
// (API.md "More sources"): the fields of the one-time secret panel, in order.

import type { RotatedWebhookToken, StrategySource } from "../api/types";
import type { MessageKey } from "../i18n/messages";

export interface SecretField {
  label: MessageKey;
  value: string;
  /** A credential: marked so the browser tests can check it never outlives the panel. */
  secret: boolean;
  /** Shown in a multi-line box (the TradingView alert message). */
  multiline?: boolean;
  /** Where in the source's own settings this value is pasted. */
  where?: MessageKey;
}

/** TradingView sends no headers: the token travels in the URL unless the alert body already carries it. */
export function tradingViewUrl(webhookUrl: string, webhookToken: string, alertTemplate: string | undefined): string {
  if (alertTemplate?.includes(webhookToken) || /[?&]token=/.test(webhookUrl)) return webhookUrl;
  return `${webhookUrl}${webhookUrl.includes("?") ? "&" : "?"}token=${encodeURIComponent(webhookToken)}`;
}

export function sourceSecrets(source: StrategySource, webhookUrl: string, answer: RotatedWebhookToken): SecretField[] {
  const token: SecretField = { label: "strategies.webhookToken", value: answer.webhookToken, secret: true };
  switch (source) {
    case "quantdinger":
      return [
        { label: "strategies.webhookUrl", value: webhookUrl, secret: false, where: "sources.quantdinger.where.url" },
        { ...token, where: "sources.quantdinger.where.token" },
        ...(answer.signingSecret
          ? [{ label: "sources.quantdinger.signingSecret" as const, value: answer.signingSecret, secret: true, where: "sources.quantdinger.where.secret" as const }]
          : []),
      ];
    case "tradingview":
      return [
        {
          label: "sources.tradingview.url",
          value: tradingViewUrl(webhookUrl, answer.webhookToken, answer.alertTemplate),
          secret: !answer.alertTemplate?.includes(answer.webhookToken),
          where: "sources.tradingview.where.url",
        },
        ...(answer.alertTemplate
          ? [
              {
                label: "sources.tradingview.alertTemplate" as const,
                value: answer.alertTemplate,
                secret: true,
                multiline: true,
                where: "sources.tradingview.where.message" as const,
              },
            ]
          : [token]),
      ];
    default:
      return [{ label: "strategies.webhookUrl", value: webhookUrl, secret: false }, token];
  }
}
