import { describe, expect, it } from "vitest";

import { CognitoClient, CognitoError, jwtClaims } from "../src/auth/cognito";
import { COGNITO, json, jwt, scriptedFetch } from "./helpers";

const tokens = { IdToken: "id", AccessToken: "access", RefreshToken: "refresh", ExpiresIn: 3600 };

describe("CognitoClient", () => {
  it("signs in with USER_PASSWORD_AUTH over the JSON 1.1 protocol", async () => {
    const { fetcher, calls } = scriptedFetch(json(200, { AuthenticationResult: tokens }));
    const result = await new CognitoClient(COGNITO, fetcher).signIn("a@example.com", "Secret-123");
    expect(result).toEqual({ idToken: "id", accessToken: "access", refreshToken: "refresh", expiresIn: 3600 });
    const [call] = calls;
    expect(call!.url).toBe(COGNITO.endpoint);
    expect(call!.init.method).toBe("POST");
    expect(call!.headers["Content-Type"]).toBe("application/x-amz-json-1.1");
    expect(call!.headers["X-Amz-Target"]).toBe("AWSCognitoIdentityProviderService.InitiateAuth");
    expect(call!.body).toEqual({
      ClientId: "client123",
      AuthFlow: "USER_PASSWORD_AUTH",
      AuthParameters: { USERNAME: "a@example.com", PASSWORD: "Secret-123" },
    });
  });

  it("turns an error answer into a CognitoError of its type, whatever the prefix", async () => {
    const { fetcher } = scriptedFetch(
      json(400, { __type: "NotAuthorizedException", message: "Incorrect username or password." }),
      json(400, { __type: "com.amazonaws#UserNotConfirmedException:extra", message: "not confirmed" }),
    );
    const client = new CognitoClient(COGNITO, fetcher);
    await expect(client.signIn("a@example.com", "bad")).rejects.toMatchObject({
      type: "NotAuthorizedException",
      message: "Incorrect username or password.",
    });
    await expect(client.signIn("a@example.com", "bad")).rejects.toMatchObject({ type: "UserNotConfirmedException" });
  });

  it("reads the type from the x-amzn-errortype header when the body has none", async () => {
    const { fetcher } = scriptedFetch(new Response("oops", { status: 400, headers: { "x-amzn-errortype": "LimitExceededException:" } }));
    await expect(new CognitoClient(COGNITO, fetcher).confirmSignUp("a@example.com", "1")).rejects.toMatchObject({
      type: "LimitExceededException",
    });
  });

  it("says NetworkError when nothing answers", async () => {
    const { fetcher } = scriptedFetch(new TypeError("Failed to fetch"));
    const error = await new CognitoClient(COGNITO, fetcher).signIn("a@example.com", "x").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CognitoError);
    expect((error as CognitoError).type).toBe("NetworkError");
  });

  it("refuses a challenge it cannot answer instead of pretending to be signed in", async () => {
    const { fetcher } = scriptedFetch(json(200, { ChallengeName: "NEW_PASSWORD_REQUIRED", Session: "s" }));
    await expect(new CognitoClient(COGNITO, fetcher).signIn("a@example.com", "x")).rejects.toMatchObject({
      type: "Challenge_NEW_PASSWORD_REQUIRED",
    });
  });

  it("refreshes with REFRESH_TOKEN_AUTH; the answer has no new refresh token", async () => {
    const { IdToken, AccessToken, ExpiresIn } = tokens;
    const { fetcher, calls } = scriptedFetch(json(200, { AuthenticationResult: { IdToken, AccessToken, ExpiresIn } }));
    const result = await new CognitoClient(COGNITO, fetcher).refresh("r1");
    expect(result).toEqual({ idToken: "id", accessToken: "access", expiresIn: 3600 });
    expect(calls[0]!.body).toEqual({ ClientId: "client123", AuthFlow: "REFRESH_TOKEN_AUTH", AuthParameters: { REFRESH_TOKEN: "r1" } });
  });

  it("signs up with the email as username and attribute, and reports where the code went", async () => {
    const { fetcher, calls } = scriptedFetch(
      json(200, { UserConfirmed: false, UserSub: "u", CodeDeliveryDetails: { Destination: "a***@e***" } }),
    );
    const result = await new CognitoClient(COGNITO, fetcher).signUp("a@example.com", "Secret-1234");
    expect(result).toEqual({ userConfirmed: false, destination: "a***@e***" });
    expect(calls[0]!.headers["X-Amz-Target"]).toBe("AWSCognitoIdentityProviderService.SignUp");
    expect(calls[0]!.body).toEqual({
      ClientId: "client123",
      Username: "a@example.com",
      Password: "Secret-1234",
      UserAttributes: [{ Name: "email", Value: "a@example.com" }],
    });
  });

  it("confirms, resends the code and revokes with the right actions and bodies", async () => {
    const { fetcher, calls } = scriptedFetch(json(200, {}), json(200, {}), json(200, {}));
    const client = new CognitoClient(COGNITO, fetcher);
    await client.confirmSignUp("a@example.com", "123456");
    await client.resendCode("a@example.com");
    await client.revoke("r1");
    expect(calls.map((c) => c.headers["X-Amz-Target"]!.split(".")[1])).toEqual([
      "ConfirmSignUp",
      "ResendConfirmationCode",
      "RevokeToken",
    ]);
    expect(calls[0]!.body).toEqual({ ClientId: "client123", Username: "a@example.com", ConfirmationCode: "123456" });
    expect(calls[2]!.body).toEqual({ ClientId: "client123", Token: "r1" });
  });

  it("reads JWT claims, UTF-8 included", () => {
    expect(jwtClaims(jwt({ sub: "u1", email: "张@例子.cn", exp: 10 }))).toEqual({ sub: "u1", email: "张@例子.cn", exp: 10 });
    expect(jwtClaims("garbage")).toEqual({});
  });
});
