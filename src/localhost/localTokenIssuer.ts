import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Issuer and audience of tokens minted for simulated mode. */
export const LOCAL_ISSUER = "https://aks-pod-sandbox.local/local-issuer";
export const LOCAL_AUDIENCE = "api://aks-pod-sandbox";
/** Path (outside the API prefix) where the local host serves the issuer's JWKS. */
export const LOCAL_JWKS_PATH = "/.local-issuer/keys";

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

const KEY_FILE = "signing-key.json";

/**
 * Loads the local issuer's RS256 signing key from `<dataDir>/local-issuer/`,
 * creating it on first use (file mode 0600). Shared by the running host and
 * `npm run token`, so a token minted in one terminal verifies in the other.
 * Simulated mode only: never enabled with real Azure settings.
 */
async function loadOrCreateKey(dataDir: string): Promise<StoredKey> {
  const dir = join(dataDir, "local-issuer");
  const file = join(dir, KEY_FILE);
  try {
    return JSON.parse(await readFile(file, "utf8")) as StoredKey;
  } catch {
    await mkdir(dir, { recursive: true });
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const kid = randomUUID();
    const stored: StoredKey = {
      kid,
      privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" },
      publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" },
    };
    try {
      await writeFile(file, JSON.stringify(stored), { mode: 0o600, flag: "wx" });
      return stored;
    } catch {
      // Another process created it first: use theirs.
      return JSON.parse(await readFile(file, "utf8")) as StoredKey;
    }
  }
}

export interface MintTokenOptions {
  team?: string;
  roles?: readonly string[];
  name?: string;
  /** Object id; default a fresh UUID per call. */
  oid?: string;
  /** Client app id (for bot-like tokens). */
  appId?: string;
  /** Lifetime in seconds; default 3600. */
  expiresInSeconds?: number;
  /** Claim name for the team (default `team`). */
  teamClaim?: string;
  audience?: string;
}

export class LocalTokenIssuer {
  private constructor(private readonly key: StoredKey) {}

  static async open(dataDir: string): Promise<LocalTokenIssuer> {
    return new LocalTokenIssuer(await loadOrCreateKey(dataDir));
  }

  /** The JWKS document (public key only). */
  jwks(): { keys: JWK[] } {
    return { keys: [this.key.publicJwk] };
  }

  /** Serves the JWKS; plug into the local host's `localRoutes`. */
  readonly serveJwks = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=300" });
    res.end(JSON.stringify(this.jwks()));
  };

  /** Mints an RS256 access token like Entra ID's (v2 claims subset). */
  async mint(options: MintTokenOptions = {}): Promise<string> {
    const privateKey = await importJWK(this.key.privateJwk, "RS256");
    const oid = options.oid ?? randomUUID();
    const claims: Record<string, unknown> = {
      oid,
      name: options.name ?? (options.team ? `${options.team} user` : "local user"),
      roles: [...(options.roles ?? [])],
      tid: "00000000-0000-0000-0000-000000000000",
      ver: "2.0",
    };
    if (options.team !== undefined) claims[options.teamClaim ?? "team"] = options.team;
    if (options.appId !== undefined) claims.azp = options.appId;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: this.key.kid, typ: "JWT" })
      .setIssuer(LOCAL_ISSUER)
      .setAudience(options.audience ?? LOCAL_AUDIENCE)
      .setSubject(oid)
      .setIssuedAt()
      .setNotBefore("0s")
      .setExpirationTime(`${options.expiresInSeconds ?? 3600}s`)
      .sign(privateKey);
  }
}
