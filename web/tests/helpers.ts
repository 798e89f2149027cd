// Test doubles shared by the unit tests: a scripted fetch, a memory Storage, an unsigned JWT.

export interface Call {
  url: string;
  init: RequestInit;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

type Answer = Response | Error | ((call: Call) => Response | Error);

/** fetch that answers from a queue and records each call. */
export function scriptedFetch(...answers: Answer[]) {
  const calls: Call[] = [];
  const fetcher = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const headers = Object.fromEntries(Object.entries((init.headers ?? {}) as Record<string, string>));
    const call: Call = {
      url: String(input),
      init,
      body: init.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : {},
      headers,
    };
    calls.push(call);
    const next = answers.shift();
    if (next === undefined) throw new Error(`unexpected call to ${call.url}`);
    const answer = typeof next === "function" ? next(call) : next;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { fetcher: fetcher as typeof fetch, calls };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  keys(): string[] {
    return [...this.items.keys()];
  }
}

/** A JWT with these claims (unsigned: the SPA never verifies, the API does). */
export function jwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) =>
    btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(value))))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  return `${encode({ alg: "RS256" })}.${encode(claims)}.sig`;
}

export const COGNITO = {
  endpoint: "https://cognito-idp.ap-east-1.amazonaws.com/",
  region: "ap-east-1",
  userPoolId: "ap-east-1_pool",
  clientId: "client123",
};
