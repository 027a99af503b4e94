import type { HttpRequest } from "@azure/functions";
import type { Principal } from "../domain/identity/principal.js";
import { SandboxError } from "../domain/sandboxError.js";
import type { TokenVerifier } from "../domain/identity/tokenVerifier.js";

/**
 * Extracts and verifies the bearer token of a request.
 * @param verifier resolved only once the header is well-formed (a malformed header is 401 even when misconfigured).
 * @throws SandboxError `Unauthorized` (the HTTP layer adds `WWW-Authenticate`).
 */
export async function authenticate(request: HttpRequest, verifier: () => TokenVerifier): Promise<Principal> {
  const header = request.headers.get("authorization");
  if (header === null)
    throw new SandboxError("Unauthorized", "This route needs an Authorization: Bearer <token> header.");
  const match = /^Bearer\s+([A-Za-z0-9\-_=]+\.[A-Za-z0-9\-_=]*\.[A-Za-z0-9\-_.+/=]*)\s*$/i.exec(header);
  if (!match) throw new SandboxError("Unauthorized", "The Authorization header must be 'Bearer <JWT>'.");
  return verifier().verify(match[1]!);
}
