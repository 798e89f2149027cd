// RFC 4180 CSV of the timeline: one row per delivery (a signal without deliveries gets one row).

import type { Signal } from "../api/types";

export const TIMELINE_COLUMNS = [
  "signalId",
  "seq",
  "security",
  "sourceSecurity",
  "side",
  "amount",
  "price",
  "signalStatus",
  "terminalId",
  "terminalName",
  "deliveryStatus",
  "receivedAt",
  "queuedAt",
  "pushedAt",
  "pulledAt",
  "executedAt",
  "ackedAt",
  "latencyMs",
  "ackLatencyMs",
  "brokerOrderId",
  "filled",
  "avgPrice",
  "error",
] as const;

type Cell = string | number | null | undefined;

/** One cell: quoted when needed; text that a spreadsheet would run as a formula is defused. */
export function csvCell(value: Cell): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function timelineCsv(signals: readonly Signal[], terminalName: (id: string) => string = () => ""): string {
  const lines = [TIMELINE_COLUMNS.join(",")];
  for (const s of signals) {
    const head: Cell[] = [s.signalId, s.seq, s.security, s.sourceSecurity, s.side, s.amount, s.price, s.status];
    const deliveries = s.deliveries.length ? s.deliveries : [null];
    for (const d of deliveries) {
      const tail: Cell[] = d
        ? [
            d.terminalId,
            terminalName(d.terminalId),
            d.status,
            d.receivedAt,
            d.queuedAt,
            d.pushedAt,
            d.pulledAt,
            d.executedAt,
            d.ackedAt,
            d.latencyMs,
            d.ackLatencyMs,
            d.brokerOrderId,
            d.filled,
            d.avgPrice,
            d.error,
          ]
        : [null, null, null, s.receivedAt, null, null, null, null, null, null, null, null, null, null, null];
      lines.push([...head, ...tail].map(csvCell).join(","));
    }
  }
  // The BOM lets Excel open the UTF-8 file (Chinese names) correctly.
  return `\ufeff${lines.join("\r\n")}\r\n`;
}
