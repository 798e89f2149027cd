// The terminal agent's config file, in the format of terminal/examples/config.toml and read by
// quantlink_terminal.config.load_config (tests/e2e/browser checks the two agree).

export type Executor = "xtquant" | "paper";

export interface AgentConfigInput {
  /** The API's base URL without /api (e.g. https://abc.execute-api.ap-east-1.amazonaws.com/prod). */
  apiBase: string;
  authToken: string;
  terminalId: string;
  terminalName: string;
  executor: Executor;
  userdataPath: string;
  accountId: string;
  initialCash: number;
}

export const DEFAULT_USERDATA_PATH = "D:\\国金QMT交易端模拟\\userdata_mini";

/** A TOML basic string: quotes, backslashes and control characters escaped. */
export function tomlString(value: string): string {
  const escaped = value.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => {
    const named: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r" };
    return named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
  });
  return `"${escaped}"`;
}

function tomlNumber(value: number): string {
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

export function agentConfigToml(input: AgentConfigInput): string {
  const apiBase = input.apiBase.replace(/\/+$/, "").replace(/\/api$/, "");
  const lines = [
    `# quantlink-terminal config for the terminal ${input.terminalName.replace(/[\r\n]/g, " ")}.`,
    "# Relative paths are relative to this file. Keep it private: it holds the terminal's token.",
    "# Check it with:  quantlink-terminal doctor --config config.toml",
    "",
    `api_base = ${tomlString(apiBase)}`,
    `auth_token = ${tomlString(input.authToken)}`,
    `terminal_id = ${tomlString(input.terminalId)}`,
    "",
    '# "xtquant" places real orders through miniQMT; "paper" simulates an account.',
    `executor = ${tomlString(input.executor)}`,
    "# The local journal that makes every signal execute at most once. Back it up with this folder.",
    'journal = "quantlink-journal.sqlite3"',
    "",
    "[sizing]",
    "# Default for subscriptions whose owner set no sizing on the server (ratio | mirror | fixed).",
    'mode = "ratio"',
    "multiplier = 1.0",
    'on_insufficient_cash = "shrink"',
    "market_buy_buffer = 0.01",
    "",
  ];
  if (input.executor === "xtquant") {
    lines.push(
      "[xtquant]",
      "# The userdata_mini folder of your QMT installation (miniQMT must be running and logged in).",
      `userdata_path = ${tomlString(input.userdataPath)}`,
      "# Your fund account (资金账号).",
      `account_id = ${tomlString(input.accountId)}`,
      "order_timeout = 30",
      "",
    );
  } else {
    lines.push(
      "[paper]",
      'state_file = "paper-account.json"',
      `initial_cash = ${tomlNumber(input.initialCash)}`,
      "",
    );
  }
  lines.push(
    "[polling]",
    "# Long-poll wait around the trading sessions (0..20 seconds).",
    "active_wait = 20",
    input.executor === "paper"
      ? "# Paper trading: long-poll around the clock, so a test at night sees its signals at once."
      : "# Outside the sessions, ask every this many seconds instead (each waiting second is billed); 0 = always long-poll.",
    `idle_interval = ${input.executor === "paper" ? 0 : 60}`,
    "",
    "[report]",
    "# Post your real holdings to QuantLink once per trading day after this time (China time).",
    "enabled = true",
    'after_close = "15:05"',
    "",
  );
  return lines.join("\n");
}
