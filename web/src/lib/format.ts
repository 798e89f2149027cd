// Times as the owner reads them: local time with milliseconds (latency is in ms), and "5 s ago".

import { locale } from "../i18n";

const CLOCK: Intl.DateTimeFormatOptions = {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
  hourCycle: "h23",
};
const DATE: Intl.DateTimeFormatOptions = { year: "numeric", month: "2-digit", day: "2-digit" };

function format(iso: string | null | undefined, options: Intl.DateTimeFormatOptions): string {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : new Intl.DateTimeFormat(locale.value, options).format(date);
}

/** Date and time of day with milliseconds, in the owner's time zone. */
export const formatTime = (iso: string | null | undefined): string => format(iso, { ...DATE, ...CLOCK });

/** Time of day with milliseconds: the timeline's columns (the date is on the signal's own line). */
export const formatClock = (iso: string | null | undefined): string => format(iso, CLOCK);

export function formatRelative(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const relative = new Intl.RelativeTimeFormat(locale.value, { numeric: "auto" });
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, "second");
  if (abs < 3600) return relative.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), "hour");
  return relative.format(Math.round(seconds / 86400), "day");
}

/** A terminal counts as online when it pulled within the last minute (a long-poll lasts ≤ 20 s). */
export const ONLINE_WITHIN_MS = 60_000;

export function isOnline(lastSeenAt: string | null, now: number = Date.now()): boolean {
  return !!lastSeenAt && now - new Date(lastSeenAt).getTime() < ONLINE_WITHIN_MS;
}
