// The wire shapes the owner API answers (../shared/API.md, docs/openapi.json).

export interface Page<T> {
  items: T[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore?: string | null;
}

/** Where a strategy's signals come from (API.md "More sources"); absent means joinquant. */
export type StrategySource = "joinquant" | "quantdinger" | "tradingview";
export const STRATEGY_SOURCES: readonly StrategySource[] = ["joinquant", "quantdinger", "tradingview"];

export interface Strategy {
  strategyId: string;
  name: string;
  webhookUrl: string;
  signalTtlSeconds: number;
  /** The kill switch: while true, webhooks are recorded HELD and delivered to no terminal, then or later. */
  paused: boolean;
  source?: StrategySource;
  createdAt: string;
}

/** The answer to a create: the webhook token (and a source's own secret) is in it once and never again. */
export interface CreatedStrategy extends Strategy {
  webhookToken: string;
  /** QuantDinger: the HMAC signing secret to paste into QuantDinger's webhook settings. */
  signingSecret?: string;
  /** TradingView: the alert message to paste into the alert. */
  alertTemplate?: string;
}

/** PATCH /api/strategies/{id}: each field optional, at least one. */
export interface StrategyChange {
  name?: string;
  paused?: boolean;
}

/** The answer to a rotate: the new token, and for QuantDinger the new signing secret. */
export interface RotatedWebhookToken {
  webhookToken: string;
  signingSecret?: string;
  alertTemplate?: string;
}

export interface InjectResult {
  code: string;
  injected: number;
  warnings: string[];
  /** Present when the request asked for rotateToken: the new token, shown once. */
  webhookToken?: string;
}

export type SizingMode = "mirror" | "ratio" | "fixed";

export interface Sizing {
  mode: SizingMode;
  multiplier: number;
}

/** What runs the terminal: the agent next to miniQMT, or a generated PTrade strategy script. */
export type TerminalKind = "qmt" | "ptrade";
export const TERMINAL_KINDS: readonly TerminalKind[] = ["qmt", "ptrade"];

export interface Terminal {
  terminalId: string;
  name: string;
  kind: TerminalKind;
  deviceBound: boolean;
  deviceBoundAt: string | null;
  lastSeenAt: string | null;
  createdAt: string;
  /** Strategy ids this terminal receives. */
  subscriptions?: string[];
  /** Each subscription's sizing, by strategy id. */
  subscriptionSizing?: Record<string, Sizing>;
}

export interface CreatedTerminal extends Terminal {
  authToken: string;
}

export interface Subscription {
  terminalId: string;
  strategyId: string;
  sizing: Sizing;
}

export type DeliveryStatus = "QUEUED" | "PULLED" | "EXECUTED" | "FAILED" | "REJECTED" | "EXPIRED";

export interface Delivery {
  terminalId: string;
  status: DeliveryStatus;
  receivedAt: string;
  queuedAt: string;
  /** When the signal went out on the terminal's push socket (API.md "Push"); null when it was only pulled. */
  pushedAt?: string | null;
  pulledAt: string | null;
  executedAt: string | null;
  ackedAt: string | null;
  /** received → pushed or pulled (whichever came first), in milliseconds. */
  latencyMs: number | null;
  ackLatencyMs?: number | null;
  brokerOrderId?: string | null;
  filled?: number | null;
  avgPrice?: number | null;
  error?: string | null;
}

/** A signal's status as the timeline reads it: the stored one until fanned out, then what its
 * deliveries add up to (README "A signal's status"). `?status=` filters on it server-side. */
export type SignalStatus =
  | "RECEIVED"
  | "HELD"
  | "UNDELIVERED"
  | "QUEUED"
  | "DELIVERED"
  | "PARTIALLY_EXECUTED"
  | "EXECUTED"
  | "EXPIRED"
  | "REJECTED"
  | "FAILED"
  | "REVOKED";

export const SIGNAL_STATUSES: readonly SignalStatus[] = [
  "HELD",
  "UNDELIVERED",
  "QUEUED",
  "DELIVERED",
  "PARTIALLY_EXECUTED",
  "EXECUTED",
  "EXPIRED",
  "REJECTED",
  "FAILED",
  "REVOKED",
  "RECEIVED",
];

export interface Signal {
  signalId: string;
  strategyId: string;
  status: SignalStatus;
  seq: number;
  security: string;
  sourceSecurity: string;
  side: "buy" | "sell";
  amount: number;
  price: number | null;
  style: string | null;
  limitPrice: number | null;
  runType?: string | null;
  dt?: string | null;
  sentAt?: string | null;
  receivedAt: string;
  expiresAt: string;
  fannedOutAt?: string | null;
  deliveries: Delivery[];
}

// ---- sharing (API.md "Sharing") -------------------------------------------------------------------

export type Plan = "free" | "pro";

export interface Me {
  userId: string;
  email: string;
  plan: Plan;
  admin: boolean;
  /** The plan's limits by name (e.g. strategies, terminals, shares); null = unlimited. */
  limits: Record<string, number | boolean | null>;
}

export interface Permissions {
  canPause: boolean;
  canDelete: boolean;
  /** How many of the recipient's terminals may receive it (1..100). */
  terminalLimit: number;
}

export interface Person {
  userId: string;
  email: string;
}

export type InvitationStatus = "pending" | "accepted" | "expired" | "revoked";

export interface NewInvitation {
  strategyId?: string;
  bundleId?: string;
  /** Omit for a link invitation. */
  email?: string;
  permissions: Permissions;
  shareExpiresAt?: string;
  maxUses?: number;
  /** Link invitations only. */
  expiresAt?: string;
}

export interface Invitation {
  invitationId: string;
  kind: "email" | "link";
  /** The accept page's URL, ending with the secret token: in the create answer only. */
  url?: string;
  expiresAt: string | null;
  status: InvitationStatus;
  uses?: number;
  maxUses?: number | null;
  email?: string | null;
  strategyId?: string | null;
  bundleId?: string | null;
  permissions?: Permissions;
  shareExpiresAt?: string | null;
  createdAt?: string;
}

export interface InvitationPreview {
  owner: { email: string };
  strategies: { strategyId: string; name: string }[];
  bundle: { bundleId: string; name: string } | null;
  permissions: Permissions;
  shareExpiresAt: string | null;
  expiresAt: string | null;
  status: InvitationStatus;
}

export type ShareStatus = "active" | "paused" | "expired" | "revoked";

export interface Share {
  shareId: string;
  strategyId: string;
  strategyName: string;
  owner: Person;
  recipient: Person;
  via: "direct" | "bundle" | "group";
  viaId: string | null;
  permissions: Permissions;
  expiresAt: string | null;
  paused: boolean;
  status: ShareStatus;
  createdAt: string;
}

export interface ShareChange {
  permissions?: Permissions;
  expiresAt?: string | null;
  paused?: boolean;
}

export interface Bundle {
  /** The bundle's code, `sg_…`. */
  bundleId: string;
  name: string;
  strategyIds: string[];
  permissions: Permissions;
  members: Person[];
  createdAt?: string;
}

export interface GroupShare {
  groupShareId: string;
  strategyId?: string | null;
  bundleId?: string | null;
  permissions: Permissions;
  expiresAt: string | null;
}

export interface Group {
  /** `grp_…` */
  groupId: string;
  name: string;
  members: Person[];
  shares: GroupShare[];
  createdAt?: string;
}

// ---- audit and admin --------------------------------------------------------------------------------

export interface AuditEntry {
  auditId: string;
  at: string;
  actor: Person;
  action: string;
  target: { kind: string; id: string };
  strategyId: string | null;
  before: unknown;
  after: unknown;
  requestId: string | null;
  sourceIp: string | null;
}

export interface AuditPage {
  items: AuditEntry[];
  nextCursor: string | null;
}

export interface AuditQuery {
  strategyId?: string;
  actor?: string;
  action?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string | null;
}

export interface AdminSettings {
  auditEnabled: boolean;
  auditRetentionDays: number;
}

export interface AdminUser {
  userId: string;
  email: string;
  plan: Plan;
  admin?: boolean;
  createdAt?: string;
}

// ---- drift (API.md "Drift") -------------------------------------------------------------------------

export type DriftStatus = "ok" | "drift" | "missing_leader" | "missing_terminal" | "not_a_trading_day";

export interface DriftRow {
  security: string;
  expectedVolume: number;
  actualVolume: number;
  /** actual − expected */
  diffVolume: number;
  expectedValue: number;
  actualValue: number;
  expectedWeight: number;
  actualWeight: number;
  withinLotBound: boolean;
  /** The largest difference lot rounding alone explains (shares). */
  lotBound?: number;
}

export interface SyncOrder {
  security: string;
  side: "buy" | "sell";
  amount: number;
  /** The followed strategy the order is sent under (its timeline shows it, origin sync). */
  strategyId?: string;
}

export interface DriftReport {
  terminalId: string;
  date: string;
  status: DriftStatus;
  /** 0..1: the share of the terminal's total value misplaced beyond the lot-rounding bound. */
  score: number;
  threshold: number;
  rows: DriftRow[];
  sync: SyncOrder[];
  computedAt: string;
  /** For missing_leader: the strategies that sent no snapshot that day. */
  missingStrategies?: string[];
  /** When this day's sync orders were sent, if they were. */
  syncSentAt?: string | null;
}

export interface DriftPoint {
  date: string;
  score: number;
  status?: DriftStatus;
  threshold?: number;
  /** With ?security=: that security's numbers on the day. */
  expectedVolume?: number;
  actualVolume?: number;
  diffVolume?: number;
}
