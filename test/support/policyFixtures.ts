import type { Principal, Role } from "../../src/domain/identity/principal.js";
import {
  buildPolicy,
  type ClusterRef,
  type PolicyDocument,
  type SandboxPolicy,
} from "../../src/domain/policy/policy.js";

export const SUB_ALPHA = "aaaaaaaa-0000-0000-0000-000000000001";
export const SUB_BETA = "bbbbbbbb-0000-0000-0000-000000000002";

/** Two teams on separate subscriptions, plus a shared one where alpha sees only rg-alpha-*. */
export const FIXTURE_POLICY_DOCUMENT: PolicyDocument = {
  version: 1,
  identity: {
    groupTeams: { "99999999-0000-0000-0000-00000000000a": "alpha", "99999999-0000-0000-0000-00000000000b": "beta" },
    appTeams: { "77777777-0000-0000-0000-00000000000b": "beta" },
  },
  defaults: { allowedRegistries: ["mcr.microsoft.com/"], quotas: { maxConcurrentJobs: 3 } },
  teams: {
    alpha: {
      scopes: [{ subscriptionId: SUB_ALPHA, resourceGroups: ["rg-alpha-*"], clusters: ["*"] }],
      allowedRegistries: ["mcr.microsoft.com/", "alphaacr.azurecr.io/alpha"],
      allowRunAsRoot: true,
    },
    beta: {
      scopes: [{ subscriptionId: SUB_BETA, resourceGroups: ["rg-beta-?"], clusters: ["c*"], namespace: "beta-jobs" }],
      quotas: { maxVCpuPerJob: 1, maxMemoryMiBPerJob: 1024, maxTimeoutSeconds: 600 },
    },
  },
};

export function fixturePolicy(): SandboxPolicy {
  const { policy, problems } = buildPolicy(FIXTURE_POLICY_DOCUMENT);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return policy;
}

export const ALPHA_CLUSTER: ClusterRef = { subscriptionId: SUB_ALPHA, resourceGroup: "rg-alpha-1", clusterName: "c1" };
export const BETA_CLUSTER: ClusterRef = { subscriptionId: SUB_BETA, resourceGroup: "rg-beta-1", clusterName: "c2" };

export function principal(team: string | undefined, roles: readonly Role[], extra: Partial<Principal> = {}): Principal {
  return {
    id: `oid-${team ?? "none"}-${roles.join("+") || "noroles"}`,
    name: `${team ?? "no team"} user`,
    team,
    roles,
    appId: undefined,
    ...extra,
  };
}
