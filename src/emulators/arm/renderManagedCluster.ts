/**
 * How the ARM emulator renders managed clusters and agent pools: the body the
 * client sent (secrets stripped on the way in) with the defaults, read-only
 * fields and profiles AKS fills in.
 */
import type { ArmEmulatorState, ClusterRecord, JsonObject, PoolRecord } from "./armEmulatorState.js";

const CLUSTER_TYPE = "Microsoft.ContainerService/managedClusters";
const POOL_TYPE = "Microsoft.ContainerService/managedClusters/agentPools";

export function isObject(v: unknown): v is JsonObject {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

function nodeImageVersion(p: JsonObject): string {
  const os = typeof p.osSKU === "string" ? p.osSKU : "Ubuntu";
  return os.startsWith("AzureLinux") ? "AKSAzureLinux-V3gen2-202611.03.0" : "AKSUbuntu-2204gen2containerd-202611.03.0";
}

function renderPoolProperties(p: PoolRecord): JsonObject {
  const r = p.requested;
  return {
    ...r,
    eTag: p.eTag,
    count: typeof r.count === "number" ? r.count : 1,
    vmSize: typeof r.vmSize === "string" ? r.vmSize : "Standard_DS2_v2",
    osDiskSizeGB: typeof r.osDiskSizeGB === "number" ? r.osDiskSizeGB : 128,
    osDiskType: r.osDiskType ?? "Managed",
    kubeletDiskType: r.kubeletDiskType ?? "OS",
    workloadRuntime: r.workloadRuntime ?? "OCIContainer",
    maxPods: typeof r.maxPods === "number" ? r.maxPods : 110,
    type: r.type ?? "VirtualMachineScaleSets",
    mode: r.mode ?? "User",
    osType: r.osType ?? "Linux",
    osSKU: r.osSKU ?? (r.osType === "Windows" ? "Windows2022" : "Ubuntu"),
    orchestratorVersion: p.orchestratorVersion,
    currentOrchestratorVersion: p.orchestratorVersion,
    nodeImageVersion: nodeImageVersion(r),
    upgradeSettings: isObject(r.upgradeSettings) ? r.upgradeSettings : { maxSurge: "10%" },
    provisioningState: p.provisioningState,
    powerState: { code: "Running" },
    enableNodePublicIP: r.enableNodePublicIP ?? false,
    enableFIPS: r.enableFIPS ?? false,
    nodeLabels: r.nodeLabels ?? {},
    nodeTaints: r.nodeTaints ?? [],
  };
}

/** An agent pool as ARM answers it (GET, PUT, list). */
export function renderAgentPool(state: ArmEmulatorState, c: ClusterRecord, p: PoolRecord): JsonObject {
  return {
    id: `${state.armId(c)}/agentPools/${p.name}`,
    name: p.name,
    type: POOL_TYPE,
    properties: renderPoolProperties(p),
  };
}

/** A managed cluster as ARM answers it: what was asked for, plus the defaults and read-only fields AKS adds. */
export function renderManagedCluster(state: ArmEmulatorState, c: ClusterRecord): JsonObject {
  const req = c.requested;
  const props = isObject(req.properties) ? req.properties : {};
  const dnsPrefix =
    typeof props.dnsPrefix === "string" && props.dnsPrefix
      ? props.dnsPrefix
      : `${c.name.slice(0, 30)}-${c.resourceGroup.slice(0, 20)}-${c.subscriptionId.slice(0, 6)}`.replace(
          /[^a-zA-Z0-9-]/g,
          "",
        );
  const net = isObject(props.networkProfile) ? props.networkProfile : {};
  const lbp = isObject(net.loadBalancerProfile) ? net.loadBalancerProfile : {};
  const nodeRg =
    typeof props.nodeResourceGroup === "string"
      ? props.nodeResourceGroup
      : `MC_${c.resourceGroup}_${c.name}_${c.location}`;
  const managedOutbound = isObject(lbp.managedOutboundIPs) ? lbp.managedOutboundIPs : { count: 1 };
  const outboundCount = typeof managedOutbound.count === "number" ? managedOutbound.count : 1;
  let identity: JsonObject = {
    type: "SystemAssigned",
    principalId: c.identityIds.principalId,
    tenantId: c.identityIds.tenantId,
  };
  if (isObject(req.identity)) {
    identity = { ...req.identity };
    if (isObject(identity.userAssignedIdentities)) {
      identity.userAssignedIdentities = Object.fromEntries(
        Object.keys(identity.userAssignedIdentities).map((id) => [
          id,
          { clientId: c.identityIds.principalId, principalId: c.identityIds.principalId },
        ]),
      );
    } else if (identity.type === "SystemAssigned") {
      identity = { ...identity, principalId: c.identityIds.principalId, tenantId: c.identityIds.tenantId };
    }
  }
  const body: JsonObject = {
    id: state.armId(c),
    location: c.location,
    name: c.name,
    type: CLUSTER_TYPE,
    eTag: c.eTag,
    ...(isObject(req.tags) ? { tags: req.tags } : {}),
    ...(isObject(req.sku) ? { sku: req.sku } : {}),
    ...(typeof req.kind === "string" ? { kind: req.kind } : {}),
    identity,
    properties: {
      ...props,
      provisioningState: c.provisioningState,
      powerState: { code: "Running" },
      maxAgentPools: 100,
      kubernetesVersion: c.kubernetesVersion,
      currentKubernetesVersion: c.kubernetesVersion,
      dnsPrefix,
      fqdn: `${dnsPrefix}-${c.fqdnSuffix}.hcp.${c.location}.azmk8s.io`,
      azurePortalFQDN: `${dnsPrefix}-${c.fqdnSuffix}.portal.hcp.${c.location}.azmk8s.io`,
      nodeResourceGroup: nodeRg,
      enableRBAC: props.enableRBAC ?? true,
      supportPlan: props.supportPlan ?? "KubernetesOfficial",
      servicePrincipalProfile: isObject(props.servicePrincipalProfile)
        ? props.servicePrincipalProfile
        : { clientId: "msi" },
      agentPoolProfiles: [...c.pools.values()].map((p) => ({ name: p.name, ...renderPoolProperties(p) })),
      networkProfile: {
        networkPlugin: "azure",
        networkPluginMode: "overlay",
        podCidr: "10.244.0.0/16",
        serviceCidr: "10.0.0.0/16",
        dnsServiceIP: "10.0.0.10",
        outboundType: "loadBalancer",
        loadBalancerSku: "standard",
        podCidrs: ["10.244.0.0/16"],
        serviceCidrs: ["10.0.0.0/16"],
        ipFamilies: ["IPv4"],
        ...net,
        loadBalancerProfile: {
          managedOutboundIPs: managedOutbound,
          effectiveOutboundIPs: Array.from({ length: outboundCount }, (_, i) => ({
            id: `/subscriptions/${c.subscriptionId}/resourceGroups/${nodeRg}/providers/Microsoft.Network/publicIPAddresses/mgdoutboundip${i + 1}`,
          })),
          allocatedOutboundPorts: 0,
          idleTimeoutInMinutes: 30,
          backendPoolType: "NodeIPConfiguration",
          ...lbp,
        },
      },
      resourceUID: c.key.slice(0, 24),
    },
  };
  return body;
}
