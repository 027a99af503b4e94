/** An AKS managed cluster, as routes, policy, ARM and Kubernetes name it (the one cluster reference type). */
export interface ClusterRef {
  readonly subscriptionId: string;
  readonly resourceGroup: string;
  readonly clusterName: string;
}

/** The cluster named by a route's path parameters. */
export function clusterRefOf(params: Readonly<Record<string, string>>): ClusterRef {
  return {
    subscriptionId: params.subscriptionId ?? "",
    resourceGroup: params.resourceGroup ?? "",
    clusterName: params.clusterName ?? "",
  };
}
