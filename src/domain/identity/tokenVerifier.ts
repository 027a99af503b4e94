import type { Principal } from "./principal.js";

/**
 * Port: turns a bearer token into a {@link Principal}.
 * Implementations throw `SandboxError("Unauthorized")` for any invalid token,
 * with a message that never contains the token.
 */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
