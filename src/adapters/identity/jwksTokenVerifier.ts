import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwksCache,
  jwtVerify,
  type ExportedJWKSCache,
  type JWTPayload,
} from "jose";
import type { AuthConfiguration } from "../../config/configuration.js";
import { isRole, type Principal } from "../../domain/identity/principal.js";
import type { TokenVerifier } from "../../domain/identity/tokenVerifier.js";
import { SandboxError } from "../../domain/sandboxError.js";
import { VerifiedTokenCache } from "./verifiedTokenCache.js";

function claimString(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  if (typeof value === "string" && value !== "") return value;
  if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  return undefined;
}

/** Entra's groups overage: `_claim_names.groups` (JWT over 200 groups) or `hasgroups: true` (implicit flow). */
function hasGroupsOverage(payload: JWTPayload): boolean {
  const names = payload._claim_names;
  const overflowed = typeof names === "object" && names !== null && "groups" in names;
  return overflowed || payload.hasgroups === true || payload.hasgroups === "true";
}

/**
 * Why the token is not an access token, or undefined when it is one. Entra
 * ID tokens carry `nonce`/`at_hash`/`c_hash` and none of what access tokens
 * carry (`scp` or `roles`, and `azp`/`appid`); an ID token may have the API's
 * client id as audience, so the audience check alone does not catch it.
 */
export function notAnAccessToken(payload: JWTPayload): string | undefined {
  const idTokenMarker = ["nonce", "at_hash", "c_hash"].find((claim) => payload[claim] !== undefined);
  if (idTokenMarker !== undefined)
    return `it is an ID token (claim "${idTokenMarker}"), not an access token: request an access token for this API`;
  const accessTokenClaim = ["scp", "roles", "azp", "appid"].some((claim) => payload[claim] !== undefined);
  if (!accessTokenClaim)
    return "it is not an access token (no scp, roles, azp or appid claim): request an access token for this API";
  return undefined;
}

/**
 * The issuers accepted for the configured one: for an Entra tenant issuer,
 * both token versions of that tenant — v1 `https://sts.windows.net/{tenant}/`
 * and v2 `https://login.microsoftonline.com/{tenant}/v2.0` (which one a
 * client gets depends on the API app's `accessTokenAcceptedVersion`).
 * Sovereign clouds keep their own v2 host. Any other issuer is taken as is.
 */
export function acceptedIssuers(issuer: string): string[] {
  const v2 = /^https:\/\/([^/]+)\/([0-9a-f-]{36})\/v2\.0\/?$/i.exec(issuer);
  const v1 = /^https:\/\/sts\.windows\.net\/([0-9a-f-]{36})\/?$/i.exec(issuer);
  const tenant = v2?.[2] ?? v1?.[1];
  if (tenant === undefined) return [issuer];
  const v2Host = v2?.[1] ?? "login.microsoftonline.com";
  return [...new Set([issuer, `https://sts.windows.net/${tenant}/`, `https://${v2Host}/${tenant}/v2.0`])];
}

/** Maps verified claims to the principal handlers see. */
export function principalFromClaims(payload: JWTPayload, teamClaim: string): Principal {
  const id = claimString(payload, "oid") ?? payload.sub;
  if (!id) throw new SandboxError("Unauthorized", "The token has neither an oid nor a sub claim.");
  const appId = claimString(payload, "azp") ?? claimString(payload, "appid");
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r): r is string => typeof r === "string").filter(isRole)
    : [];
  return Object.freeze({
    id,
    name: claimString(payload, "name") ?? claimString(payload, "preferred_username") ?? appId ?? id,
    team: claimString(payload, teamClaim),
    roles: Object.freeze([...new Set(roles)]),
    appId,
    groups: Object.freeze(
      Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === "string") : [],
    ),
    groupsOverage: hasGroupsOverage(payload),
  });
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "the token has expired";
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return "the token is not for this API (audience mismatch)";
    if (error.claim === "iss") return "the token comes from an unexpected issuer";
    if (error.claim === "nbf") return "the token is not valid yet";
    return `claim "${error.claim}" is invalid`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return "the token's signing algorithm is not allowed";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "the token signature is invalid";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "the token was signed with an unknown key";
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid)
    return "the signing keys could not be fetched";
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return "the token is malformed";
  return "the token could not be verified";
}

/**
 * Verifies JWTs with `jose` against a JWKS URL (keys cached and refreshed by
 * jose on unknown `kid`): signature with an allowed asymmetric algorithm
 * (never `none` or HMAC), issuer, audience, `exp`/`nbf` with the configured
 * clock skew. A token verified once is answered from a {@link VerifiedTokenCache}
 * until its `exp` or the next fetch of the signing keys, whichever comes first.
 */
export class JwksTokenVerifier implements TokenVerifier {
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;
  /** jose records every successful key fetch here (`uat`). */
  readonly #keys: Partial<ExportedJWKSCache> = {};
  readonly #verified: VerifiedTokenCache;
  readonly #now: (() => number) | undefined;

  /**
   * @param options.now the clock for `exp`/`nbf` (tests); default the real one.
   * @param options.keysMaxAgeMs how long fetched keys are trusted before a refetch (default 10 min).
   */
  constructor(
    private readonly config: AuthConfiguration,
    options: { now?: () => number; keysMaxAgeMs?: number } = {},
  ) {
    this.#now = options.now;
    this.#jwks = createRemoteJWKSet(new URL(config.jwksUrl), {
      timeoutDuration: 5000,
      cooldownDuration: 30_000,
      cacheMaxAge: options.keysMaxAgeMs ?? 10 * 60_000,
      [jwksCache]: this.#keys as ExportedJWKSCache,
    });
    this.#verified = new VerifiedTokenCache({
      clockToleranceSeconds: config.clockSkewSeconds,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  async verify(token: string): Promise<Principal> {
    const key = VerifiedTokenCache.keyOf(token);
    const cached = this.#verified.get(key, this.#jwks.fresh ? this.#keys.uat : undefined);
    if (cached) return cached;
    try {
      const { payload } = await jwtVerify(token, this.#jwks, {
        issuer: acceptedIssuers(this.config.issuer),
        audience: [...this.config.audiences],
        algorithms: [...this.config.algorithms],
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ["exp"],
        ...(this.#now ? { currentDate: new Date(this.#now()) } : {}),
      });
      const notAccess = notAnAccessToken(payload);
      if (notAccess !== undefined) throw new SandboxError("Unauthorized", `Bearer token rejected: ${notAccess}.`);
      const principal = principalFromClaims(payload, this.config.teamClaim);
      this.#verified.set(key, principal, payload.exp!);
      return principal;
    } catch (error) {
      if (error instanceof SandboxError) throw error;
      throw new SandboxError("Unauthorized", `Bearer token rejected: ${reasonOf(error)}.`);
    }
  }
}
