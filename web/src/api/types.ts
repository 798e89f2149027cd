// The wire shapes the owner API answers (../shared/API.md, docs/openapi.json).

export interface Page<T> {
  items: T[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore?: string | null;
}

export interface Strategy {
  strategyId: string;
  name: string;
  webhookUrl: string;
  signalTtlSeconds: number;
  createdAt: string;
}

/** The answer to a create: the webhook token is in it once and never again. */
export interface CreatedStrategy extends Strategy {
  webhookToken: string;
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

export interface Terminal {
  terminalId: string;
  name: string;
  kind: string;
  deviceBound: boolean;
  deviceBoundAt: string | null;
  lastSeenAt: string | null;
  createdAt: string;
  /** Strategy ids this terminal receives. */
  subscriptions?: string[];
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
  pulledAt: string | null;
  executedAt: string | null;
  ackedAt: string | null;
  /** received → pulled, in milliseconds. */
  latencyMs: number | null;
  ackLatencyMs?: number | null;
  brokerOrderId?: string | null;
  filled?: number | null;
  avgPrice?: number | null;
  error?: string | null;
}

export interface Signal {
  signalId: string;
  strategyId: string;
  status: string;
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
