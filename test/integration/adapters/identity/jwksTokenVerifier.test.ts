// The verifier with its verified-token cache against a JWKS served on
// 127.0.0.1: a cached token behaves exactly as a full verification would.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { JwksTokenVerifier } from "../../../../src/adapters/identity/jwksTokenVerifier.js";

const ISSUER = "https://issuer.test/";
const AUDIENCE = "api://test";

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
}

describe("JwksTokenVerifier with cached verifications", () => {
  let server: Server;
  let jwksUrl: string;
  let served: JWK[] = [];
  let fetches = 0;
  let k1: SigningKey;
  let k2: SigningKey;

  before(async () => {
    [k1, k2] = await Promise.all([signingKey("k1"), signingKey("k2")]);
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: served }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const verifier = (options: { now?: () => number; keysMaxAgeMs?: number } = {}) =>
    new JwksTokenVerifier(
      {
        issuer: ISSUER,
        audiences: [AUDIENCE],
        jwksUrl,
        teamClaim: "team",
        algorithms: ["RS256"],
        clockSkewSeconds: 60,
      },
      options,
    );

  const sign = (key: SigningKey, expSeconds: number, claims: Record<string, unknown> = {}) =>
    new SignJWT({ oid: "o-1", roles: ["Sandbox.Reader"], team: "alpha", ...claims })
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(expSeconds - 3600)
      .setExpirationTime(expSeconds)
      .sign(key.privateKey);

  test("a cached token still expires at exp (plus the clock skew), like an uncached one", async () => {
    served = [k1.publicJwk];
    const clock = { ms: Date.now() };
    const v = verifier({ now: () => clock.ms });
    const exp = Math.floor(clock.ms / 1000) + 120;
    const token = await sign(k1, exp);
    assert.equal((await v.verify(token)).id, "o-1");
    const before = fetches;
    assert.equal((await v.verify(token)).team, "alpha");
    assert.equal(fetches, before, "no key fetch for a repeated token");
    clock.ms = (exp + 59) * 1000;
    assert.equal((await v.verify(token)).id, "o-1", "inside the 60 s skew");
    clock.ms = (exp + 60) * 1000;
    await assert.rejects(v.verify(token), (e: Error) => /expired/.test(e.message));
  });

  test("a tampered copy of a cached token fails; so does an unknown kid", async () => {
    served = [k1.publicJwk];
    const v = verifier();
    const token = await sign(k1, Math.floor(Date.now() / 1000) + 600);
    await v.verify(token);
    const [h, p, s] = token.split(".") as [string, string, string];
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), roles: ["Sandbox.Admin"] }),
    ).toString("base64url");
    await assert.rejects(v.verify(`${h}.${forgedPayload}.${s}`), (e: Error) => /signature is invalid/.test(e.message));
    await assert.rejects(v.verify(await sign(k2, Math.floor(Date.now() / 1000) + 600)), (e: Error) =>
      /unknown key/.test(e.message),
    );
  });

  test("a key removed from the JWKS fails at the next key refresh, cached or not", async () => {
    served = [k1.publicJwk];
    const v = verifier({ keysMaxAgeMs: 50 });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const revoked = await sign(k1, exp);
    await v.verify(revoked);
    served = [k2.publicJwk]; // k1 revoked
    await sleep(120); // the fetched keys are stale now
    await assert.rejects(v.verify(revoked), (e: Error) => /unknown key/.test(e.message));
  });

  test("after another request refreshed the keys, an earlier cached token of a revoked key fails", async () => {
    served = [k1.publicJwk, k2.publicJwk];
    const v = verifier({ keysMaxAgeMs: 50 });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const revoked = await sign(k1, exp);
    await v.verify(revoked);
    served = [k2.publicJwk];
    await sleep(120);
    assert.equal((await v.verify(await sign(k2, exp))).id, "o-1", "this one refetches the keys (k2 only)");
    await assert.rejects(v.verify(revoked), (e: Error) => /unknown key/.test(e.message));
  });
});
