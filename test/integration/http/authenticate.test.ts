import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { startInProcessApp, type InProcessApp } from "../../support/inProcessApp.js";
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from "../../../src/localhost/localTokenIssuer.js";

describe("bearer authentication (jose against the local issuer's JWKS)", () => {
  let host: InProcessApp;
  let key: { kid: string; privateJwk: JWK };

  before(async () => {
    host = await startInProcessApp();
    await host.token(); // creates the signing key in the host's data dir
    key = JSON.parse(readFileSync(join(host.dataDir, "local-issuer", "signing-key.json"), "utf8")) as typeof key;
  });
  after(async () => {
    await host?.stop();
  });

  async function sign(
    claims: Record<string, unknown>,
    opts: {
      iss?: string;
      aud?: string;
      exp?: number;
      nbf?: number;
      alg?: string;
      kid?: string;
      privateKey?: Parameters<SignJWT["sign"]>[0];
    } = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const privateKey = opts.privateKey ?? (await importJWK(key.privateJwk, "RS256"));
    return new SignJWT({ oid: "o-1", roles: ["Sandbox.Reader"], team: "alpha", ...claims })
      .setProtectedHeader({ alg: opts.alg ?? "RS256", kid: opts.kid ?? key.kid })
      .setIssuer(opts.iss ?? LOCAL_ISSUER)
      .setAudience(opts.aud ?? LOCAL_AUDIENCE)
      .setIssuedAt(now - 10)
      .setNotBefore(opts.nbf ?? now - 10)
      .setExpirationTime(opts.exp ?? now + 600)
      .sign(privateKey);
  }

  async function whoami(
    authorization: string | undefined,
  ): Promise<{ status: number; body: { error?: { code: string; message: string } }; wwwAuthenticate: string | null }> {
    const res = await host.call("GET", "/whoami", "", undefined, authorization === undefined ? {} : { authorization });
    return {
      status: res.status,
      body: (await res.json()) as { error?: { code: string; message: string } },
      wwwAuthenticate: res.headers.get("www-authenticate"),
    };
  }

  async function expectRejected(authorization: string | undefined, messagePattern: RegExp): Promise<void> {
    const { status, body, wwwAuthenticate } = await whoami(authorization);
    assert.equal(status, 401);
    assert.equal(body.error?.code, "Unauthorized");
    assert.match(body.error?.message ?? "", messagePattern);
    assert.match(wwwAuthenticate ?? "", /^Bearer/);
    if (authorization)
      assert.ok(!JSON.stringify(body).includes(authorization.slice(7, 40)), "error body must not echo the token");
  }

  test("a valid token is accepted", async () => {
    const { status } = await whoami(`Bearer ${await sign({})}`);
    assert.equal(status, 200);
  });

  test("missing header, wrong scheme, garbage", async () => {
    await expectRejected(undefined, /Authorization: Bearer/);
    await expectRejected("Basic dXNlcjpwYXNz", /Bearer <JWT>/);
    await expectRejected("Bearer not-a-jwt", /Bearer <JWT>/);
    await expectRejected("Bearer aaa.bbb.ccc", /malformed|could not be verified/);
  });

  test("expired beyond the 5-minute skew is rejected; within the skew accepted", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(`Bearer ${await sign({}, { exp: now - 400 })}`, /expired/);
    assert.equal((await whoami(`Bearer ${await sign({}, { exp: now - 60 })}`)).status, 200);
  });

  test("not valid yet (nbf beyond skew) is rejected", async () => {
    const now = Math.floor(Date.now() / 1000);
    await expectRejected(`Bearer ${await sign({}, { nbf: now + 900 })}`, /not valid yet/);
  });

  test("wrong audience and wrong issuer are rejected", async () => {
    await expectRejected(`Bearer ${await sign({}, { aud: "api://someone-else" })}`, /audience/);
    await expectRejected(`Bearer ${await sign({}, { iss: "https://evil.example/issuer" })}`, /issuer/);
  });

  test("a signature by another key (same kid) is rejected", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    await expectRejected(`Bearer ${await sign({}, { privateKey })}`, /signature/);
  });

  test("an unknown kid is rejected", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    await expectRejected(`Bearer ${await sign({}, { privateKey, kid: "unknown-kid" })}`, /unknown key/);
  });

  test("alg none and HS256 (key confusion) are rejected", async () => {
    const b64 = (o: object): string => Buffer.from(JSON.stringify(o)).toString("base64url");
    const now = Math.floor(Date.now() / 1000);
    const payload = b64({
      oid: "o-1",
      iss: LOCAL_ISSUER,
      aud: LOCAL_AUDIENCE,
      exp: now + 600,
      roles: ["Sandbox.Admin"],
    });
    await expectRejected(`Bearer ${b64({ alg: "none", typ: "JWT" })}.${payload}.`, /algorithm|malformed|could not/);
    const hs = await sign({}, { alg: "HS256", privateKey: new TextEncoder().encode(JSON.stringify(key.privateJwk)) });
    await expectRejected(`Bearer ${hs}`, /algorithm/);
  });

  test("unknown roles are dropped; principal carries app id for app tokens", async () => {
    const token = await sign({
      roles: ["Sandbox.Reader", "Global.Admin"],
      azp: "bot-app-id",
      name: undefined,
      team: "beta",
    });
    const res = await host.call("GET", "/whoami", token);
    const body = (await res.json()) as { roles: string[]; appId: string; team: string; name: string };
    assert.deepEqual(body.roles, ["Sandbox.Reader"]);
    assert.equal(body.appId, "bot-app-id");
    assert.equal(body.team, "beta");
    assert.equal(body.name, "bot-app-id");
  });

  test("a token minted by `npm run token` (separate process, same data dir) verifies", async () => {
    // Asynchronous on purpose: a synchronous exec would block this process's
    // event loop for seconds, long enough for the server to close the idle
    // keep-alive socket that the next fetch then reuses ("fetch failed").
    const { execFile } = await import("node:child_process");
    const { promisify } = await import("node:util");
    const { packageRoot } = await import("../../../src/packageRoot.js");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        "--import",
        import.meta.resolve("tsx"),
        join(packageRoot(), "src/localhost/mintToken.ts"),
        "--team",
        "alpha",
        "--roles",
        "Sandbox.Submitter,Sandbox.Reader",
      ],
      {
        env: { ...process.env, SANDBOX_DATA_DIR: host.dataDir },
        encoding: "utf8",
      },
    );
    const token = stdout.trim();
    const res = await host.call("GET", "/whoami", token);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { roles: string[] }).roles, ["Sandbox.Submitter", "Sandbox.Reader"]);
  });
});
