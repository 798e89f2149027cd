// The signed-in owner's Cognito session: the only thing the SPA keeps in localStorage (one key),
// so a reload stays signed in. ID tokens are refreshed (REFRESH_TOKEN_AUTH) a minute before they
// expire, and once more when the API answers 401 anyway (a clock skew, a revoked token).

import { computed, shallowRef } from "vue";

import { CognitoClient, CognitoError, jwtClaims, type Tokens } from "./cognito";

export const SESSION_KEY = "quantlink.session";
const REFRESH_MARGIN_MS = 60_000;

export interface Session {
  email: string;
  userId: string;
  idToken: string;
  accessToken: string;
  refreshToken: string;
  /** When the ID token expires, in epoch milliseconds. */
  expiresAt: number;
}

/** Why the session ended without the owner signing out: the sign-in page says so. */
export type EndReason = "expired" | null;

function isSession(value: unknown): value is Session {
  const s = value as Partial<Session> | null;
  return (
    !!s &&
    typeof s.email === "string" &&
    typeof s.userId === "string" &&
    typeof s.idToken === "string" &&
    typeof s.accessToken === "string" &&
    typeof s.refreshToken === "string" &&
    typeof s.expiresAt === "number"
  );
}

export class SessionStore {
  readonly current = shallowRef<Session | null>(null);
  readonly endReason = shallowRef<EndReason>(null);
  readonly signedIn = computed(() => this.current.value !== null);
  private refreshing: Promise<string> | null = null;

  constructor(
    private readonly client: () => CognitoClient,
    private readonly storage: Storage,
    private readonly clock: () => number = Date.now,
  ) {
    this.current.value = this.read();
  }

  private read(): Session | null {
    try {
      const parsed: unknown = JSON.parse(this.storage.getItem(SESSION_KEY) ?? "null");
      return isSession(parsed) ? parsed : null;
    } catch {
      return null;
    }
  }

  private write(session: Session | null): void {
    if (session) this.storage.setItem(SESSION_KEY, JSON.stringify(session));
    else this.storage.removeItem(SESSION_KEY);
    this.current.value = session;
  }

  /** Another tab signed in or out: follow it. */
  syncFromStorage(): void {
    this.current.value = this.read();
  }

  private fromTokens(tokens: Tokens, refreshToken: string, fallbackEmail: string): Session {
    const claims = jwtClaims(tokens.idToken);
    const exp = typeof claims.exp === "number" ? claims.exp * 1000 : this.clock() + tokens.expiresIn * 1000;
    return {
      email: typeof claims.email === "string" ? claims.email : fallbackEmail,
      userId: typeof claims.sub === "string" ? claims.sub : "",
      idToken: tokens.idToken,
      accessToken: tokens.accessToken,
      refreshToken,
      expiresAt: exp,
    };
  }

  async signIn(email: string, password: string): Promise<Session> {
    const tokens = await this.client().signIn(email, password);
    const session = this.fromTokens(tokens, tokens.refreshToken, email);
    this.endReason.value = null;
    this.write(session);
    return session;
  }

  /** Forget the session here and revoke its refresh token (best effort: signing out never fails). */
  async signOut(reason: EndReason = null): Promise<void> {
    const session = this.current.value;
    this.endReason.value = reason;
    this.write(null);
    if (session && reason === null) {
      await this.client()
        .revoke(session.refreshToken)
        .catch(() => undefined);
    }
  }

  /** A valid ID token, refreshed first when it is about to expire; null when signed out. */
  async idToken(): Promise<string | null> {
    const session = this.current.value;
    if (!session) return null;
    if (session.expiresAt - this.clock() > REFRESH_MARGIN_MS) return session.idToken;
    return this.refresh();
  }

  /** New tokens from the refresh token; one refresh at a time however many calls ask for it. */
  refresh(): Promise<string> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const session = this.current.value;
    if (!session) throw new CognitoError("NotAuthorizedException", "signed out");
    try {
      const tokens = await this.client().refresh(session.refreshToken);
      const next = this.fromTokens(tokens, tokens.refreshToken ?? session.refreshToken, session.email);
      this.write(next);
      return next.idToken;
    } catch (error) {
      // A refresh token Cognito refuses is the end of the session; a network error is not.
      if (error instanceof CognitoError && error.type !== "NetworkError") await this.signOut("expired");
      throw error;
    }
  }
}
