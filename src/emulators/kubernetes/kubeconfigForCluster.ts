import type { SimulatedCloud, SimulatedCluster } from "../simulatedCloud.js";

/**
 * The kubeconfig (YAML text) that reaches `cluster` on the running Kubernetes
 * emulator: `server: <kubernetesBaseUrl>/clusters/<key>`,
 * `certificate-authority-data` = base64 of the emulator certificate (its own
 * CA), and the cluster's bearer token as user `clusterUser_<rg>_<name>` — the
 * shape AKS's `listClusterUserCredential` returns. Pure; throws when the
 * emulator has not started (no base URL or CA on `cloud`).
 */
export function kubeconfigForCluster(cloud: SimulatedCloud, cluster: SimulatedCluster): string {
  if (!cloud.kubernetesBaseUrl || !cloud.caCertPem) {
    throw new Error("the Kubernetes emulator is not running (cloud.kubernetesBaseUrl / caCertPem unset)");
  }
  const q = (value: string) => JSON.stringify(value); // JSON strings are valid YAML scalars
  const user = `clusterUser_${cluster.resourceGroup}_${cluster.name}`;
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${Buffer.from(cloud.caCertPem).toString("base64")}`,
    `    server: ${q(`${cloud.kubernetesBaseUrl}/clusters/${cluster.key}`)}`,
    `  name: ${q(cluster.name)}`,
    "contexts:",
    "- context:",
    `    cluster: ${q(cluster.name)}`,
    `    user: ${q(user)}`,
    `  name: ${q(cluster.name)}`,
    `current-context: ${q(cluster.name)}`,
    "preferences: {}",
    "users:",
    `- name: ${q(user)}`,
    "  user:",
    `    token: ${q(cluster.bearerToken)}`,
    "",
  ].join("\n");
}
