/**
 * The team policy: which team may see and do what. Plain, frozen data built
 * from the policy file (`policy/policy.schema.json`, loaded and validated by
 * `src/config/policyFile.ts`), plus the pure lookups every decision uses.
 */

import { egressProblems } from "../containment/containmentObjects.js";

/** Per-job and per-team limits. */
export interface TeamQuotas {
  /** Jobs of the team holding a slot at once (not yet finished). Default 5. */
  readonly maxConcurrentJobs: number;
  /** Upper bound of a job's `resources.limits.cpu`, in vCPU. Default 2. */
  readonly maxVCpuPerJob: number;
  /** Upper bound of a job's `resources.limits.memory`, in MiB. Default 4096. */
  readonly maxMemoryMiBPerJob: number;
  /** Upper bound of a job's `timeoutSeconds`. Default 3600. */
  readonly maxTimeoutSeconds: number;
  /** `ephemeral-storage` request and limit of every job container, in MiB. Default 1024. */
  readonly ephemeralStorageMiBPerJob: number;
}

/** What a team's jobs may reach on the network besides the cluster DNS (policy file `egress`); defaults closed. */
export interface TeamEgress {
  /** Public addresses (0.0.0.0/0 minus private, link-local and wireserver ranges). */
  readonly internet: boolean;
  /** Further IPv4 CIDRs (the cluster's own ranges and the always-denied ones are carved out). */
  readonly cidrs: readonly string[];
  /** TCP ports the opened destinations may be reached on; empty = any port. */
  readonly ports: readonly number[];
}

export const CLOSED_EGRESS: TeamEgress = Object.freeze({
  internet: false,
  cidrs: Object.freeze([]),
  ports: Object.freeze([]),
});

/** Where a team may see and manage clusters. Patterns are globs (`*`, `?`), case-insensitive. */
export interface TeamScope {
  /** Subscription id, lower-case. */
  readonly subscriptionId: string;
  readonly resourceGroups: readonly string[];
  readonly clusters: readonly string[];
  /** Namespace for the team's jobs on this scope's clusters; undefined = the team's default. */
  readonly namespace: string | undefined;
}

export interface TeamPolicy {
  readonly name: string;
  readonly scopes: readonly TeamScope[];
  /** Default namespace of the team's jobs. */
  readonly namespace: string;
  /** Image reference prefixes (see `imageAllowed`); empty = no image allowed. */
  readonly allowedRegistries: readonly string[];
  readonly quotas: TeamQuotas;
  /** Sandboxed jobs may run as root (runAsNonRoot relaxed). Never applies to `isolation: none`. */
  readonly allowRunAsRoot: boolean;
  readonly egress: TeamEgress;
  /**
   * Sandboxed jobs may run on a cluster without a network policy engine
   * (their NetworkPolicies are then not enforced). Default false:
   * `NetworkPolicyUnsupported`.
   */
  readonly allowUnenforcedNetworking: boolean;
}

export interface SandboxPolicy {
  /** Token claim naming the team; overrides `AUTH_TEAM_CLAIM` when set. */
  readonly teamClaim: string | undefined;
  /** Entra group object id (lower-case) → team. */
  readonly groupTeams: ReadonlyMap<string, string>;
  /** Client application id (lower-case) → team. */
  readonly appTeams: ReadonlyMap<string, string>;
  readonly teams: ReadonlyMap<string, TeamPolicy>;
}

import type { ClusterRef } from "../sandbox/clusterRef.js";
export type { ClusterRef };

/** The policy file's shape (after JSON Schema validation). */
export interface PolicyDocument {
  version: 1;
  identity?: { teamClaim?: string; groupTeams?: Record<string, string>; appTeams?: Record<string, string> };
  defaults?: PolicyTeamSettings;
  teams: Record<string, PolicyTeamDocument>;
}

export interface PolicyTeamSettings {
  allowedRegistries?: string[];
  quotas?: Partial<TeamQuotas>;
  allowRunAsRoot?: boolean;
  egress?: Partial<TeamEgress>;
  allowUnenforcedNetworking?: boolean;
}

export interface PolicyTeamDocument extends PolicyTeamSettings {
  description?: string;
  scopes?: { subscriptionId: string; resourceGroups?: string[]; clusters?: string[]; namespace?: string }[];
  namespace?: string;
}

/** Built-in defaults: conservative, so a forgotten setting never widens access. */
export const DEFAULT_QUOTAS: TeamQuotas = Object.freeze({
  maxConcurrentJobs: 5,
  maxVCpuPerJob: 2,
  maxMemoryMiBPerJob: 4096,
  maxTimeoutSeconds: 3600,
  ephemeralStorageMiBPerJob: 1024,
});

/**
 * Builds the frozen policy from a schema-valid document and returns the
 * semantic problems the schema cannot express (unknown teams in mappings,
 * namespaces claimed by two teams). Pure.
 */
export function buildPolicy(document: PolicyDocument): { policy: SandboxPolicy; problems: string[] } {
  const problems: string[] = [];
  const defaults = document.defaults ?? {};
  const teams = new Map<string, TeamPolicy>();
  for (const [name, team] of Object.entries(document.teams)) {
    const scopes = (team.scopes ?? []).map((s) =>
      Object.freeze({
        subscriptionId: s.subscriptionId.toLowerCase(),
        resourceGroups: Object.freeze([...(s.resourceGroups ?? ["*"])]),
        clusters: Object.freeze([...(s.clusters ?? ["*"])]),
        namespace: s.namespace,
      }),
    );
    teams.set(
      name,
      Object.freeze({
        name,
        scopes: Object.freeze(scopes),
        namespace: team.namespace ?? `sandbox-${name}`,
        allowedRegistries: Object.freeze([...(team.allowedRegistries ?? defaults.allowedRegistries ?? [])]),
        quotas: Object.freeze({ ...DEFAULT_QUOTAS, ...defaults.quotas, ...team.quotas }),
        allowRunAsRoot: team.allowRunAsRoot ?? defaults.allowRunAsRoot ?? false,
        egress: Object.freeze({
          internet: team.egress?.internet ?? defaults.egress?.internet ?? false,
          cidrs: Object.freeze([...(team.egress?.cidrs ?? defaults.egress?.cidrs ?? [])]),
          ports: Object.freeze([...(team.egress?.ports ?? defaults.egress?.ports ?? [])]),
        }),
        allowUnenforcedNetworking: team.allowUnenforcedNetworking ?? defaults.allowUnenforcedNetworking ?? false,
      }),
    );
    for (const problem of egressProblems(teams.get(name)!.egress))
      problems.push(`/teams/${name}/egress/cidrs: ${problem}`);
  }
  // Two teams sharing a namespace would see each other's pods through Kubernetes.
  const namespaceOwner = new Map<string, string>();
  for (const team of teams.values()) {
    for (const ns of new Set([
      team.namespace,
      ...team.scopes.map((s) => s.namespace).filter((n): n is string => n !== undefined),
    ])) {
      const owner = namespaceOwner.get(ns);
      if (owner !== undefined && owner !== team.name)
        problems.push(`/teams/${team.name}: namespace "${ns}" is already the namespace of team "${owner}"`);
      else namespaceOwner.set(ns, team.name);
    }
  }
  const mapping = (kind: "groupTeams" | "appTeams"): ReadonlyMap<string, string> => {
    const out = new Map<string, string>();
    for (const [id, team] of Object.entries(document.identity?.[kind] ?? {})) {
      if (!teams.has(team)) problems.push(`/identity/${kind}/${id}: team "${team}" is not defined under /teams`);
      out.set(id.toLowerCase(), team);
    }
    return out;
  };
  const policy: SandboxPolicy = Object.freeze({
    teamClaim: document.identity?.teamClaim,
    groupTeams: mapping("groupTeams"),
    appTeams: mapping("appTeams"),
    teams,
  });
  return { policy, problems };
}

const globCache = new Map<string, RegExp>();

/** Case-insensitive glob match (`*` any run, `?` one character), as Azure names are case-insensitive. */
export function globMatches(pattern: string, value: string): boolean {
  let re = globCache.get(pattern);
  if (!re) {
    const body = pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".");
    re = new RegExp(`^${body}$`, "i");
    globCache.set(pattern, re);
  }
  return re.test(value);
}

/** The team's policy, or undefined for a team the policy does not know. */
export function teamPolicy(policy: SandboxPolicy, team: string | undefined): TeamPolicy | undefined {
  return team === undefined ? undefined : policy.teams.get(team);
}

/** True when the team has any scope in the subscription. */
export function teamSeesSubscription(team: TeamPolicy, subscriptionId: string): boolean {
  const id = subscriptionId.toLowerCase();
  return team.scopes.some((s) => s.subscriptionId === id);
}

/** The first scope of the team that covers the cluster, if any. */
export function scopeForCluster(team: TeamPolicy, cluster: ClusterRef): TeamScope | undefined {
  const id = cluster.subscriptionId.toLowerCase();
  return team.scopes.find(
    (s) =>
      s.subscriptionId === id &&
      s.resourceGroups.some((p) => globMatches(p, cluster.resourceGroup)) &&
      s.clusters.some((p) => globMatches(p, cluster.clusterName)),
  );
}

/** The namespace the team's jobs use on a cluster (the covering scope's, else the team's default). */
export function namespaceFor(team: TeamPolicy, cluster: ClusterRef): string {
  return scopeForCluster(team, cluster)?.namespace ?? team.namespace;
}
