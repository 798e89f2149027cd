import { describe, expect, it } from "vitest";

import type { Signal } from "../src/api/types";
import { agentConfigToml, tomlString } from "../src/lib/agentConfig";
import { csvCell, TIMELINE_COLUMNS, timelineCsv } from "../src/lib/csv";
import { setLocale } from "../src/i18n";
import { formatClock, formatRelative, formatTime, isOnline } from "../src/lib/format";
import { histogram, percentile } from "../src/lib/stats";

function signal(overrides: Partial<Signal> = {}): Signal {
  return {
    signalId: "sig_1",
    strategyId: "stg_1",
    status: "EXECUTED",
    seq: 3,
    security: "600000.SH",
    sourceSecurity: "600000.XSHG",
    side: "buy",
    amount: 1200,
    price: 10.52,
    style: "market",
    limitPrice: null,
    receivedAt: "2026-11-20T01:31:02.100+00:00",
    expiresAt: "2026-11-20T01:36:02.100+00:00",
    deliveries: [
      {
        terminalId: "trm_1",
        status: "EXECUTED",
        receivedAt: "2026-11-20T01:31:02.100+00:00",
        queuedAt: "2026-11-20T01:31:02.120+00:00",
        pulledAt: "2026-11-20T01:31:02.160+00:00",
        executedAt: "2026-11-20T01:31:02.200+00:00",
        ackedAt: "2026-11-20T01:31:02.220+00:00",
        latencyMs: 60,
        ackLatencyMs: 120,
        brokerOrderId: "B1",
        filled: 1200,
        avgPrice: 10.5,
        error: null,
      },
    ],
    ...overrides,
  };
}

describe("percentile and histogram", () => {
  it("interpolates between ranks", () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([5], 99)).toBe(5);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 99)).toBeCloseTo(99.1);
    expect(percentile([3, 1, 2], 0)).toBe(1);
  });

  it("puts every sample in exactly one nice-width bin", () => {
    const samples = [12, 15, 18, 40, 41, 99, 250, 251, 1000];
    const bins = histogram(samples);
    expect(bins.reduce((sum, b) => sum + b.count, 0)).toBe(samples.length);
    const width = bins[0]!.to - bins[0]!.from;
    expect([1, 2, 5].some((step) => Number.isInteger(Math.log10(width / step)))).toBe(true);
    expect(bins[0]!.from).toBeLessThanOrEqual(12);
    expect(bins.at(-1)!.to).toBeGreaterThan(1000);
    expect(histogram([7, 7, 7])).toEqual([{ from: 7, to: 8, count: 3 }]);
  });
});

describe("timeline CSV", () => {
  it("has one row per delivery, with the timestamps and latency (pushedAt empty for a pulled one)", () => {
    const csv = timelineCsv([signal()], (id) => (id === "trm_1" ? "办公室 PC" : ""));
    expect(csv.startsWith("\ufeff")).toBe(true);
    const [header, row, end] = csv.slice(1).split("\r\n");
    expect(header).toBe(TIMELINE_COLUMNS.join(","));
    expect(header).toContain("queuedAt,pushedAt,pulledAt");
    expect(row).toBe(
      "sig_1,3,600000.SH,600000.XSHG,buy,1200,10.52,EXECUTED,trm_1,办公室 PC,EXECUTED," +
        "2026-11-20T01:31:02.100+00:00,2026-11-20T01:31:02.120+00:00,,2026-11-20T01:31:02.160+00:00," +
        "2026-11-20T01:31:02.200+00:00,2026-11-20T01:31:02.220+00:00,60,120,B1,1200,10.5,",
    );
    expect(end).toBe("");
  });

  it("has the push's time in pushedAt for a pushed delivery", () => {
    const pushed = signal();
    pushed.deliveries = [{ ...pushed.deliveries[0]!, pushedAt: "2026-11-20T01:31:02.130+00:00", latencyMs: 30 }];
    const [header, row] = timelineCsv([pushed]).slice(1).split("\r\n");
    const cells = Object.fromEntries(header!.split(",").map((column, i) => [column, row!.split(",")[i]]));
    expect(cells.pushedAt).toBe("2026-11-20T01:31:02.130+00:00");
    expect(cells.pulledAt).toBe("2026-11-20T01:31:02.160+00:00");
    expect(cells.latencyMs).toBe("30");
  });

  it("keeps a signal that no terminal received", () => {
    const rows = timelineCsv([signal({ deliveries: [] })]).slice(1).trim().split("\r\n");
    expect(rows).toHaveLength(2);
    expect(rows[1]!.split(",")).toHaveLength(TIMELINE_COLUMNS.length);
  });

  it("quotes what needs quoting and defuses spreadsheet formulas", () => {
    expect(csvCell('say "hi", twice')).toBe('"say ""hi"", twice"');
    expect(csvCell("line\nbreak")).toBe('"line\nbreak"');
    expect(csvCell("=HYPERLINK(\"x\")")).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell(-5)).toBe("-5");
    expect(csvCell(null)).toBe("");
  });
});

describe("agent config", () => {
  const input = {
    apiBase: "https://abc.execute-api.ap-east-1.amazonaws.com/prod/",
    authToken: "qlt_trm_1.secret",
    terminalId: "trm_1",
    terminalName: "office\nPC",
    executor: "xtquant" as const,
    userdataPath: 'D:\\国金QMT\\userdata_mini',
    accountId: "8880000001",
    initialCash: 1_000_000,
  };

  it("escapes TOML basic strings", () => {
    expect(tomlString('a"b\\c\n\u0001')).toBe('"a\\"b\\\\c\\n\\u0001"');
  });

  it("writes api_base without a trailing slash or /api, and the xtquant section", () => {
    const text = agentConfigToml(input);
    expect(text).toContain('api_base = "https://abc.execute-api.ap-east-1.amazonaws.com/prod"\n');
    expect(agentConfigToml({ ...input, apiBase: "http://127.0.0.1:3000/api" })).toContain('api_base = "http://127.0.0.1:3000"\n');
    expect(text).toContain('auth_token = "qlt_trm_1.secret"');
    expect(text).toContain('userdata_path = "D:\\\\国金QMT\\\\userdata_mini"');
    expect(text).toContain("[xtquant]");
    expect(text).not.toContain("[paper]");
    expect(text.split("\n")[0]).toBe("# quantlink-terminal config for the terminal office PC.");
  });

  it("writes a paper section for the paper executor", () => {
    const text = agentConfigToml({ ...input, executor: "paper", initialCash: 250000 });
    expect(text).toContain('executor = "paper"');
    expect(text).toContain("initial_cash = 250000.0");
    expect(text).not.toContain("[xtquant]");
    // A paper test at night must not wait a minute per signal: it long-polls around the clock.
    expect(text).toContain("idle_interval = 0\n");
  });

  it("keeps the cost-aware idle polling for a real miniQMT account", () => {
    expect(agentConfigToml(input)).toContain("idle_interval = 60\n");
  });
});

describe("online", () => {
  it("means a pull within the last minute", () => {
    const now = Date.parse("2026-11-20T01:00:00Z");
    expect(isOnline(null, now)).toBe(false);
    expect(isOnline("2026-11-20T00:59:30Z", now)).toBe(true);
    expect(isOnline("2026-11-20T00:58:59Z", now)).toBe(false);
  });
});

describe("time formats", () => {
  it("shows milliseconds, a dash for no time, and relative times in the current language", () => {
    setLocale("en");
    expect(formatClock("2026-11-20T01:31:02.123Z")).toMatch(/:02\.123$/);
    expect(formatTime("2026-11-20T01:31:02.123Z")).toMatch(/2026.*:02\.123$/);
    expect(formatTime(null)).toBe("—");
    expect(formatTime("not a time")).toBe("not a time");
    const now = Date.parse("2026-11-20T01:00:00Z");
    expect(formatRelative("2026-11-20T00:59:55Z", now)).toBe("5 seconds ago");
    expect(formatRelative("2026-11-20T00:58:00Z", now)).toBe("2 minutes ago");
    setLocale("zh-CN");
    expect(formatRelative("2026-11-20T00:58:00Z", now)).toBe("2分钟前");
    setLocale("en");
  });
});
