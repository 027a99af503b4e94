import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from "jose";
import type { AuthConfiguration } from "../../config/configuration.js";
import { isRole, type Principal } from "../../domain/identity/principal.js";
import type { TokenVerifier } from "../../domain/identity/tokenVerifier.js";
import { SandboxError } from "../../domain/sandboxError.js";

function claimString(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  if (typeof value === "string" && value !== "") return value;
  if (Array.isArray(value) && typeof value[0] === "string") return value[0];
  return undefined;
}

/** Maps verified claims to the principal handlers see. */
export function principalFromClaims(payload: JWTPayload, teamClaim: string): Principal {
  const id = claimString(payload, "oid") ?? payload.sub;
  if (!id) throw new SandboxError("Unauthorized", "The token has neither an oid nor a sub claim.");
  const appId = claimString(payload, "azp") ?? claimString(payload, "appid");
  const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === "string").filter(isRole) : [];
  return Object.freeze({
    id,
    name: claimString(payload, "name") ?? claimString(payload, "preferred_username") ?? appId ?? id,
    team: claimString(payload, teamClaim),
    roles: Object.freeze([...new Set(roles)]),
    appId,
    groups: Object.freeze(Array.isArray(payload.groups) ? payload.groups.filter((g): g is string => typeof g === "string") : []),
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
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) return "the signing keys could not be fetched";
  if (error instanceof joseErrors.JWSInvalid || error instanceof joseErrors.JWTInvalid) return "the token is malformed";
  return "the token could not be verified";
}

/**
 * Verifies JWTs with `jose` against a JWKS URL (keys cached and refreshed by
 * jose on unknown `kid`): signature with an allowed asymmetric algorithm
 * (never `none` or HMAC), issuer, audience, `exp`/`nbf` with the configured
 * clock skew.
 */
export class JwksTokenVerifier implements TokenVerifier {
  readonly #jwks: ReturnType<typeof createRemoteJWKSet>;

  constructor(private readonly config: AuthConfiguration) {
    this.#jwks = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
  }

  async verify(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, this.#jwks, {
        issuer: this.config.issuer,
        audience: [...this.config.audiences],
        algorithms: [...this.config.algorithms],
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ["exp"],
      });
      return principalFromClaims(payload, this.config.teamClaim);
    } catch (error) {
      if (error instanceof SandboxError) throw error;
      throw new SandboxError("Unauthorized", `Bearer token rejected: ${reasonOf(error)}.`);
    }
  }
}
