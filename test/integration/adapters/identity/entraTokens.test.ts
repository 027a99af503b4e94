// Entra ID as it really is: v1 and v2 issuers of one tenant, access tokens only, groups overage.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { JwksTokenVerifier, acceptedIssuers } from "../../../../src/adapters/identity/jwksTokenVerifier.js";
import { TeamResolvingTokenVerifier } from "../../../../src/domain/policy/teamResolution.js";
import { requireTeam, teamFilter } from "../../../../src/domain/policy/authorization.js";
import { loadPolicyFile } from "../../../../src/config/policyFile.js";
import { simulatedPolicyFile } from "../../../../src/config/simulatedPolicy.js";
import { isSandboxError } from "../../../../src/domain/sandboxError.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID = "0d7b4b38-3c5e-4a7e-9f0c-6a3a4f3f1a11";
const V1 = `https://sts.windows.net/${TENANT}/`;
const V2 = `https://login.microsoftonline.com/${TENANT}/v2.0`;

describe("Entra ID tokens", () => {
  let server: Server;
  let privateKey: CryptoKey;
  let verifier: JwksTokenVerifier;

  before(async () => {
    const pair = await generateKeyPair("RS256");
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    verifier = new JwksTokenVerifier({
      issuer: V2,
      audiences: [CLIENT_ID, "api://aks-pod-sandbox"],
      jwksUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/keys`,
      teamClaim: "team",
      algorithms: ["RS256"],
      clockSkewSeconds: 60,
    });
  });
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sign = (claims: Record<string, unknown>, iss: string, aud = CLIENT_ID): Promise<string> =>
    new SignJWT({ oid: "o-1", tid: TENANT, ...claims })
      .setProtectedHeader({ alg: "RS256", kid: "k1", typ: "JWT" })
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt()
      .setNotBefore("0s")
      .setExpirationTime("10m")
      .sign(privateKey);

  async function rejection(token: string): Promise<{ code: string; message: string }> {
    try {
      await verifier.verify(token);
    } catch (error) {
      assert.ok(isSandboxError(error));
      return { code: error.code, message: error.message };
    }
    throw new Error("accepted");
  }

  test("the configured tenant's v1 and v2 issuers are both accepted; another tenant's are not", async () => {
    assert.deepEqual(acceptedIssuers(V2).sort(), [V1, V2].sort());
    assert.deepEqual(acceptedIssuers(V1).sort(), [V1, V2].sort());
    const v2 = await verifier.verify(
      await sign({ ver: "2.0", azp: "c1", scp: "user_impersonation", team: "alpha" }, V2),
    );
    assert.equal(v2.team, "alpha");
    const v1 = await verifier.verify(
      await sign({ ver: "1.0", appid: "c1", scp: "user_impersonation", team: "alpha" }, V1, "api://aks-pod-sandbox"),
    );
    assert.equal(v1.team, "alpha");
    const other = await rejection(
      await sign(
        { ver: "1.0", appid: "c1", scp: "x" },
        "https://sts.windows.net/11111111-2222-3333-4444-555555555555/",
      ),
    );
    assert.equal(other.code, "Unauthorized");
    assert.match(other.message, /issuer/);
  });

  test("an ID token for the same audience is refused with 401 and says why", async () => {
    const idToken = await rejection(
      await sign({ ver: "2.0", nonce: "n-1", roles: ["Sandbox.Reader"], preferred_username: "ada@contoso.com" }, V2),
    );
    assert.equal(idToken.code, "Unauthorized");
    assert.match(idToken.message, /ID token.*access token/);
    const bare = await rejection(await sign({ ver: "2.0", preferred_username: "ada@contoso.com" }, V2));
    assert.match(bare.message, /not an access token/);
    // An app-only access token (client credentials: roles, azp, no scp) is fine.
    const app = await verifier.verify(
      await sign({ ver: "2.0", azp: "bot-app", roles: ["Sandbox.Submitter"], idtyp: "app" }, V2),
    );
    assert.deepEqual(app.roles, ["Sandbox.Submitter"]);
  });

  test("groups overage: a 403 that says the groups claim overflowed, not a silent lack of team", async () => {
    const policy = loadPolicyFile(simulatedPolicyFile()).policy!;
    const resolving = new TeamResolvingTokenVerifier(verifier, policy);
    const overage = await resolving.verify(
      await sign(
        {
          ver: "2.0",
          azp: "c1",
          scp: "x",
          roles: ["Sandbox.Submitter"],
          _claim_names: { groups: "src1" },
          _claim_sources: { src1: { endpoint: "https://graph.windows.net/x" } },
        },
        V2,
      ),
    );
    assert.equal(overage.groupsOverage, true);
    assert.throws(
      () => requireTeam(overage, policy),
      (e: unknown) => isSandboxError(e) && e.code === "Forbidden" && /groups claim overflowed/.test(e.message),
    );
    assert.throws(
      () => teamFilter(overage),
      (e: unknown) => isSandboxError(e) && /overflowed/.test(e.message),
    );
    const implicit = await resolving.verify(
      await sign(
        { ver: "1.0", appid: "c1", scp: "x", roles: ["Sandbox.Reader"], hasgroups: true },
        V1,
        "api://aks-pod-sandbox",
      ),
    );
    assert.equal(implicit.groupsOverage, true);
    const plain = await resolving.verify(
      await sign({ ver: "2.0", azp: "c1", scp: "x", roles: ["Sandbox.Reader"] }, V2),
    );
    assert.throws(
      () => requireTeam(plain, policy),
      (e: unknown) => isSandboxError(e) && !/overflowed/.test(e.message),
    );
  });
});
