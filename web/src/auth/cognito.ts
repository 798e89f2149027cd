// A tiny Cognito user-pool client over fetch (the JSON 1.1 protocol the AWS SDKs speak), for the
// four calls the SPA needs. No SDK: it would add ~100 kB of gzip for what is a POST each.

import type { CognitoSettings } from "../config";

/** A Cognito error, by its type (`NotAuthorizedException`, ...); `NetworkError` when nothing answered. */
export class CognitoError extends Error {
  constructor(readonly type: string, message: string) {
    super(message || type);
    this.name = "CognitoError";
  }
}

export interface Tokens {
  idToken: string;
  accessToken: string;
  /** Absent from a refresh answer: the refresh token stays the same. */
  refreshToken?: string;
  expiresIn: number;
}

export interface SignUpResult {
  userConfirmed: boolean;
  /** Where the confirmation code went (e.g. "a***@e***"), when one was sent. */
  destination: string | null;
}

type Fetch = typeof fetch;

interface AuthenticationResult {
  IdToken?: string;
  AccessToken?: string;
  RefreshToken?: string;
  ExpiresIn?: number;
}

export class CognitoClient {
  constructor(
    private readonly settings: CognitoSettings,
    private readonly fetcher: Fetch = (...args) => fetch(...args),
  ) {}

  async call<T>(action: string, body: Record<string, unknown>): Promise<T> {
    let response: Response;
    try {
      response = await this.fetcher(this.settings.endpoint, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": `AWSCognitoIdentityProviderService.${action}`,
        },
        body: JSON.stringify(body),
      });
    } catch {
      throw new CognitoError("NetworkError", "The sign-in service could not be reached.");
    }
    const text = await response.text();
    let data: Record<string, unknown> = {};
    try {
      data = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      data = {};
    }
    if (!response.ok) {
      // "__type" may be "NotAuthorizedException" or "aws.cognito#NotAuthorizedException:...".
      const raw = String(data.__type ?? response.headers.get("x-amzn-errortype") ?? `HTTP${response.status}`);
      const type = raw.split("#").pop()!.split(":")[0]!;
      throw new CognitoError(type, String(data.message ?? data.Message ?? ""));
    }
    return data as T;
  }

  async signIn(email: string, password: string): Promise<Tokens & { refreshToken: string }> {
    const answer = await this.call<{ AuthenticationResult?: AuthenticationResult; ChallengeName?: string }>(
      "InitiateAuth",
      {
        ClientId: this.settings.clientId,
        AuthFlow: "USER_PASSWORD_AUTH",
        AuthParameters: { USERNAME: email, PASSWORD: password },
      },
    );
    if (answer.ChallengeName) throw new CognitoError(`Challenge_${answer.ChallengeName}`, answer.ChallengeName);
    const tokens = readTokens(answer.AuthenticationResult);
    if (!tokens.refreshToken) throw new CognitoError("InvalidResponse", "no refresh token");
    return tokens as Tokens & { refreshToken: string };
  }

  async refresh(refreshToken: string): Promise<Tokens> {
    const answer = await this.call<{ AuthenticationResult?: AuthenticationResult }>("InitiateAuth", {
      ClientId: this.settings.clientId,
      AuthFlow: "REFRESH_TOKEN_AUTH",
      AuthParameters: { REFRESH_TOKEN: refreshToken },
    });
    return readTokens(answer.AuthenticationResult);
  }

  async signUp(email: string, password: string): Promise<SignUpResult> {
    const answer = await this.call<{
      UserConfirmed?: boolean;
      CodeDeliveryDetails?: { Destination?: string };
    }>("SignUp", {
      ClientId: this.settings.clientId,
      Username: email,
      Password: password,
      UserAttributes: [{ Name: "email", Value: email }],
    });
    return {
      userConfirmed: answer.UserConfirmed === true,
      destination: answer.CodeDeliveryDetails?.Destination ?? null,
    };
  }

  async confirmSignUp(email: string, code: string): Promise<void> {
    await this.call("ConfirmSignUp", { ClientId: this.settings.clientId, Username: email, ConfirmationCode: code });
  }

  async resendCode(email: string): Promise<void> {
    await this.call("ResendConfirmationCode", { ClientId: this.settings.clientId, Username: email });
  }

  /** Revokes the refresh token (and the tokens it issued) on sign-out. */
  async revoke(refreshToken: string): Promise<void> {
    await this.call("RevokeToken", { ClientId: this.settings.clientId, Token: refreshToken });
  }
}

function readTokens(result: AuthenticationResult | undefined): Tokens {
  if (!result?.IdToken || !result.AccessToken) throw new CognitoError("InvalidResponse", "no tokens");
  const tokens: Tokens = { idToken: result.IdToken, accessToken: result.AccessToken, expiresIn: result.ExpiresIn ?? 3600 };
  if (result.RefreshToken) tokens.refreshToken = result.RefreshToken;
  return tokens;
}

/** The claims of a JWT, unverified (the API verifies; the SPA only reads `exp`, `email`, `sub`). */
export function jwtClaims(token: string): Record<string, unknown> {
  const payload = token.split(".")[1];
  if (!payload) return {};
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return {};
  }
}
