/** The application roles of the API (Entra app roles, `roles` claim). */
export const ROLES = ["Sandbox.Reader", "Sandbox.Submitter", "Sandbox.Operator", "Sandbox.Admin"] as const;
export type Role = (typeof ROLES)[number];

/** The authenticated caller, as handlers see it. Never carries the token itself. */
export interface Principal {
  /** Entra object id (`oid`), or `sub` when there is no `oid`. */
  readonly id: string;
  /** Display name (`name`, else `preferred_username`, else `appid`/`azp`, else the id). */
  readonly name: string;
  /** Team named by the configured claim; undefined when the token names none. */
  readonly team: string | undefined;
  /** Known roles from the `roles` claim; unknown role names are dropped. */
  readonly roles: readonly Role[];
  /** Client application id (`azp`/`appid`) — set for bots using client credentials. */
  readonly appId: string | undefined;
  /** Entra group object ids (`groups` claim), for the policy's group → team mapping. */
  readonly groups?: readonly string[];
  /** True when Entra left the groups out because there were too many (`_claim_names.groups` or `hasgroups`). */
  readonly groupsOverage?: boolean;
}

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}
