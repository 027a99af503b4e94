// The `az aks update` re-PUT is lossless: what ARM's GET returned goes back unchanged (minus read-only
// properties, plus the sandbox pool), through the real SDK pipeline against the ARM emulator.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ArmClientFactory } from "../../../../src/adapters/arm/armClients.js";
import { AzureArmOperations } from "../../../../src/adapters/arm/azureArmOperations.js";
import { MANAGED_CLUSTER_READ_ONLY_PATHS } from "../../../../src/adapters/arm/managedClusterDocument.js";
import {
  armCall,
  clusterPath,
  createReadyCluster,
  PREVIEW,
  staticCredential,
  startTestArm,
  SUB,
  waitUntil,
  type TestArm,
} from "../../../support/armTestSupport.js";

const RG = "rg-update";

/** What the cluster carries that the SDK's stable model would lose or choke on. */
const addonProfiles = {
  azureKeyvaultSecretsProvider: { enabled: true, config: { enableSecretRotation: "true", rotationPollInterval: "2m" } },
  azurepolicy: { enabled: false },
};
const upgradeSettings = { overrideSettings: { forceUpgrade: false, until: "2026-12-31T08:00:00Z" } };
// Not in the stable swagger (nor in the SDK's model): preview-only.
const safeguardsProfile = { level: "Warning", excludedNamespaces: ["kube-system"], version: "v2.0.0" };
const systemPool = {
  name: "system",
  count: 1,
  vmSize: "Standard_D4s_v3",
  mode: "System",
  osType: "Linux",
  nodeInitializationTaints: ["CriticalAddonsOnly=true:NoSchedule"],
};

function has(document: unknown, path: string): boolean {
  const [head, ...rest] = path.split(".");
  if (head === undefined) return false;
  if (head.endsWith("[]")) {
    const list = (document as Record<string, unknown> | undefined)?.[head.slice(0, -2)];
    return Array.isArray(list) && list.some((item) => has(item, rest.join(".")));
  }
  const value = (document as Record<string, unknown> | undefined)?.[head];
  if (rest.length === 0) return value !== undefined;
  return value !== undefined && has(value, rest.join("."));
}

describe("managedClusterUpdate: GET raw JSON, PUT it back losslessly (ARM emulator)", () => {
  let t: TestArm;
  let arm: AzureArmOperations;

  before(async () => {
    t = await startTestArm({ recordRequestBodies: true });
    const clients = new ArmClientFactory(
      { armEndpoint: t.arm.url, simulate: true, simulatedCaCertPath: undefined, azureAuthorityHost: undefined },
      { credential: staticCredential, httpClient: t.clientOptions.httpClient },
    );
    arm = new AzureArmOperations(clients);
    const feature = `/subscriptions/${SUB}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features/KataVMIsolationPreview`;
    await armCall(t, "POST", `${feature}/register?api-version=2021-07-01`);
    await waitUntil(
      async () =>
        (await armCall(t, "GET", `${feature}?api-version=2021-07-01`)).body?.properties?.state === "Registered",
    );
    const provider = `/subscriptions/${SUB}/providers/Microsoft.ContainerService`;
    await armCall(t, "POST", `${provider}/register?api-version=2025-04-01`);
    await waitUntil(
      async () =>
        (await armCall(t, "GET", `${provider}?api-version=2025-04-01`)).body?.registrationState === "Registered",
    );
    await createReadyCluster(
      t,
      RG,
      "keep1",
      {
        location: "eastus",
        tags: { owner: "platform" },
        properties: {
          dnsPrefix: "keep1",
          agentPoolProfiles: [systemPool],
          addonProfiles,
          upgradeSettings,
          safeguardsProfile,
        },
      },
      PREVIEW,
    );
  });
  after(async () => {
    await t?.close();
  });

  test("preview-only fields, the Key Vault secrets add-on and the override date come back unchanged in the PUT body", async () => {
    const got = await armCall(t, "GET", `${clusterPath(RG, "keep1")}?api-version=${PREVIEW}`);
    assert.equal(got.status, 200);
    // The scenario: the emulator really returns what the SDK model would lose.
    assert.deepEqual(got.body.properties.safeguardsProfile, safeguardsProfile);
    assert.deepEqual(
      got.body.properties.addonProfiles.azureKeyvaultSecretsProvider,
      addonProfiles.azureKeyvaultSecretsProvider,
    );
    assert.equal(got.body.properties.upgradeSettings.overrideSettings.until, upgradeSettings.overrideSettings.until);

    const sandboxPool = {
      name: "sandbox",
      count: 1,
      vmSize: "Standard_D4s_v3",
      mode: "User",
      osType: "Linux",
      osSKU: "AzureLinux",
      workloadRuntime: "KataMshvVmIsolation",
    };
    t.arm.requestLog.clear();
    const progress = await arm.startLro(
      {
        kind: "managedClusterUpdate",
        cluster: { subscriptionId: SUB, resourceGroup: RG, clusterName: "keep1" },
        apiVersion: PREVIEW,
        addAgentPool: sandboxPool,
      },
      { correlationId: "corr-update-1" },
    );
    assert.notEqual(progress.status, "failed", JSON.stringify(progress));

    const puts = t.arm.requestLog
      .entries()
      .filter((e) => e.method === "PUT" && e.path.endsWith("/managedClusters/keep1"));
    assert.equal(puts.length, 1);
    assert.equal(puts[0]!.apiVersion, PREVIEW, "the flavour's api-version, as the GET");
    const gets = t.arm.requestLog
      .entries()
      .filter((e) => e.method === "GET" && e.path.endsWith("/managedClusters/keep1"));
    assert.equal(gets[0]?.apiVersion, PREVIEW);
    const sent = puts[0]!.body as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

    assert.deepEqual(sent.properties.safeguardsProfile, safeguardsProfile);
    assert.deepEqual(sent.properties.addonProfiles, got.body.properties.addonProfiles);
    assert.deepEqual(sent.properties.upgradeSettings, upgradeSettings);
    assert.deepEqual(sent.tags, { owner: "platform" });
    assert.equal(sent.location, got.body.location);

    // Everything the GET returned is sent back, but for read-only properties; the sandbox pool is appended.
    for (const path of MANAGED_CLUSTER_READ_ONLY_PATHS) assert.ok(!has(sent, path), `read-only ${path} not sent`);
    const expected = structuredClone(got.body) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const key of ["id", "name", "type", "systemData", "eTag"]) delete expected[key];
    for (const key of [
      "provisioningState",
      "powerState",
      "maxAgentPools",
      "currentKubernetesVersion",
      "fqdn",
      "privateFQDN",
      "azurePortalFQDN",
      "resourceUID",
    ]) {
      delete expected.properties[key];
    }
    delete expected.properties.networkProfile?.loadBalancerProfile?.effectiveOutboundIPs;
    delete expected.properties.networkProfile?.natGatewayProfile?.effectiveOutboundIPs;
    delete expected.properties.oidcIssuerProfile?.issuerURL;
    if (expected.identity) for (const key of ["principalId", "tenantId"]) delete expected.identity[key];
    for (const pool of expected.properties.agentPoolProfiles)
      for (const key of ["eTag", "currentOrchestratorVersion", "provisioningState"]) delete pool[key];
    expected.properties.agentPoolProfiles.push(sandboxPool);
    assert.deepEqual(sent, expected);
    assert.deepEqual(
      sent.properties.agentPoolProfiles[0].nodeInitializationTaints,
      systemPool.nodeInitializationTaints,
    );

    await waitUntil(() => t.arm.state.cluster(SUB, RG, "keep1")?.provisioningState === "Succeeded");
    assert.equal(
      t.arm.state.cluster(SUB, RG, "keep1")?.pools.get("sandbox")?.requested.workloadRuntime,
      "KataMshvVmIsolation",
    );
  });
});
