import type { TokenCredential } from "@azure/core-auth";
import {
  CLUSTER_NOT_FOUND,
  type AccessTokenSource,
  type ClusterRef,
  type KubeconfigSource,
} from "../../domain/kubernetes/clusterKubernetes.js";
import { SandboxError } from "../../domain/sandboxError.js";
import type { ArmClientFactory } from "./armClients.js";
import { translateArmError } from "./armErrors.js";

/**
 * Cluster user credentials through ARM (`listClusterUserCredential`, the
 * `az aks get-credentials` call). The kubeconfig is returned to the caller
 * only: never logged or stored.
 */
export class ArmKubeconfigSource implements KubeconfigSource {
  constructor(
    private readonly arm: ArmClientFactory,
    private readonly apiVersion: string,
  ) {}

  async userKubeconfig(cluster: ClusterRef): Promise<string> {
    let result;
    try {
      result = await this.arm
        .containerService(cluster.subscriptionId, this.apiVersion)
        .managedClusters.listClusterUserCredentials(cluster.resourceGroup, cluster.clusterName);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        const message = `Cluster ${cluster.clusterName} was not found in resource group ${cluster.resourceGroup}.`;
        throw new SandboxError("NotFound", message, { details: [{ code: CLUSTER_NOT_FOUND, message }] });
      }
      const translated = translateArmError(error, `credentials of cluster ${cluster.clusterName}`);
      // A 409 (the cluster is being deleted, or busy) is the caller's conflict
      // with the cluster's state, not an upstream failure: 409 Conflict with
      // ARM's code and words, so clients neither retry blindly nor see a 5xx.
      if ((error as { statusCode?: number }).statusCode === 409 && translated.code === "UpstreamFailed") {
        const arm = translated.details[0];
        throw new SandboxError(
          "Conflict",
          `Cluster ${cluster.clusterName} cannot be used now: ${arm?.message ?? "Azure answered 409"}`,
          { details: translated.details, cause: error },
        );
      }
      throw translated;
    }
    const value = result.kubeconfigs?.[0]?.value;
    if (!value)
      throw new SandboxError("UpstreamFailed", `ARM returned no kubeconfig for cluster ${cluster.clusterName}.`);
    return Buffer.from(value).toString("utf8");
  }
}

/** Entra tokens from an Azure credential (for Entra-integrated clusters' `exec` users). */
export class AzureAccessTokenSource implements AccessTokenSource {
  constructor(private readonly credential: TokenCredential) {}

  async getToken(scope: string): Promise<string> {
    const token = await this.credential.getToken(scope);
    if (!token) throw new SandboxError("UpstreamFailed", `No Azure token could be obtained for ${scope}.`);
    return token.token;
  }
}
