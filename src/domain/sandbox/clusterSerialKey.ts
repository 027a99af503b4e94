import type { ClusterRef } from "../operations/armOperations.js";

/**
 * The cluster's ARM id, lower case: operations of ours on one cluster
 * (pools, enable-sandboxing, delete) queue behind each other on this key.
 */
export function clusterSerialKey(cluster: ClusterRef): string {
  return `/subscriptions/${cluster.subscriptionId}/resourceGroups/${cluster.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${cluster.clusterName}`.toLowerCase();
}
