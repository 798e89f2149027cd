// The terminal agent's config file, in the format of terminal/examples/config.toml and read by
// quantlink_terminal.config.load_config (tests/e2e/browser checks the two agree). A PTrade terminal's
// file is the input of `quantlink-terminal ptrade-script`, which writes the script pasted into PTrade.

export type Executor = "xtquant" | "paper" | "ptrade";

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
  /** PTrade: how often the script asks QuantLink during the session (3..60 s). */
  pollSeconds?: number;
  /** PTrade: the names of its journal, activity log and pause file in the research folder. */
  filesPrefix?: string;
}

export const PTRADE_POLL_DEFAULT = 5;
export const PTRADE_PREFIX_DEFAULT = "quantlink";
/** What files_prefix accepts (quantlink_terminal.ptrade.settings). */
export const PTRADE_PREFIX_PATTERN = "[A-Za-z0-9_-]{1,40}";

/** The file name the SPA offers and the commands below refer to. */
export const configFileName = (executor: Executor) => (executor === "ptrade" ? "ptrade.toml" : "config.toml");

export const PTRADE_SCRIPT_COMMAND = "quantlink-terminal ptrade-script --config ptrade.toml -o quantlink_ptrade.py";

/** host:port of the API, for the broker's allow list (PTrade blocks the internet by default). */
export function apiHostPort(apiBase: string): string {
  const url = new URL(apiBase);
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
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
  const lines: string[] = [
    `# quantlink-terminal config for the terminal ${input.terminalName.replace(/[\r\n]/g, " ")}.`,
    "# Relative paths are relative to this file. Keep it private: it holds the terminal's token.",
    `# Check it with:  quantlink-terminal doctor --config ${configFileName(input.executor)}`,
    "",
    `api_base = ${tomlString(apiBase)}`,
    `auth_token = ${tomlString(input.authToken)}`,
    `terminal_id = ${tomlString(input.terminalId)}`,
    "",
  ];
  if (input.executor === "ptrade") {
    lines.push(
      '# "ptrade" runs inside PTrade: generate the script from this file with',
      `#   ${PTRADE_SCRIPT_COMMAND}`,
      "# and paste the whole script into a new PTrade strategy. The script holds the token: keep it private.",
      'executor = "ptrade"',
      "",
    );
  } else {
    lines.push(
      '# "xtquant" places real orders through miniQMT; "paper" simulates an account.',
      `executor = ${tomlString(input.executor)}`,
      "# The local journal that makes every signal execute at most once. Back it up with this folder.",
      'journal = "quantlink-journal.sqlite3"',
      "",
    );
  }
  lines.push(
    "[sizing]",
    "# Default for subscriptions whose owner set no sizing on the server (ratio | mirror | fixed).",
    'mode = "ratio"',
    "multiplier = 1.0",
    'on_insufficient_cash = "shrink"',
    "market_buy_buffer = 0.01",
    "",
  );
  if (input.executor === "ptrade") {
    lines.push(
      "[ptrade]",
      "# How often the script asks QuantLink during the session (3 to 60 seconds).",
      `poll_seconds = ${Math.round(input.pollSeconds ?? PTRADE_POLL_DEFAULT)}`,
      "order_timeout = 30",
      "# Names of its journal, activity log and pause file in PTrade's research folder (研究);",
      "# give each PTrade terminal of one account its own.",
      `files_prefix = ${tomlString(input.filesPrefix || PTRADE_PREFIX_DEFAULT)}`,
      "",
      "[report]",
      "# Post the day's holdings to QuantLink after the close (after_trading_end) for the drift check.",
      "enabled = true",
      "",
    );
    return lines.join("\n");
  }
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
