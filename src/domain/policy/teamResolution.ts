import type { Principal } from "../identity/principal.js";
import type { TokenVerifier } from "../identity/tokenVerifier.js";
import type { SandboxPolicy } from "./policy.js";

/**
 * The caller's team, in this order: the team claim (already on the
 * principal), then the policy's `appTeams` for the token's client app id
 * (bots using client credentials carry no user claims), then `groupTeams` for
 * the token's `groups`. Groups that map to two different teams give no team:
 * guessing would widen access. Pure.
 */
export function resolveTeam(principal: Principal, policy: SandboxPolicy): Principal {
  if (principal.team !== undefined) return principal;
  const appTeam = principal.appId === undefined ? undefined : policy.appTeams.get(principal.appId.toLowerCase());
  if (appTeam !== undefined) return Object.freeze({ ...principal, team: appTeam });
  const groupTeams = new Set(
    (principal.groups ?? [])
      .map((g) => policy.groupTeams.get(g.toLowerCase()))
      .filter((t): t is string => t !== undefined),
  );
  if (groupTeams.size === 1) return Object.freeze({ ...principal, team: [...groupTeams][0] });
  return principal;
}

/** A {@link TokenVerifier} decorator that applies {@link resolveTeam} to every verified principal. */
export class TeamResolvingTokenVerifier implements TokenVerifier {
  constructor(
    private readonly inner: TokenVerifier,
    private readonly policy: SandboxPolicy,
  ) {}

  async verify(token: string): Promise<Principal> {
    return resolveTeam(await this.inner.verify(token), this.policy);
  }
}
