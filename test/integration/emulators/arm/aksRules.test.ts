import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  PREVIEW,
  STABLE,
  SUB,
  armCall,
  clusterBody,
  clusterPath,
  createReadyCluster,
  startTestArm,
  waitUntil,
  type TestArm,
  type RawResponse,
} from "../../../support/armTestSupport.js";

// Each AKS rule: the refusal, its status, code, target and message.
describe("ARM emulator enforces AKS rules", () => {
  let t: TestArm;
  const pool = (name: string, apiVersion = STABLE): string =>
    `${clusterPath("rg-rules", "rules")}/agentPools/${name}?api-version=${apiVersion}`;
  const kata = (extra: Record<string, unknown> = {}): { properties: Record<string, unknown> } => ({
    properties: {
      count: 1,
      vmSize: "Standard_D4s_v3",
      osType: "Linux",
      osSKU: "AzureLinux",
      mode: "User",
      workloadRuntime: "KataVmIsolation",
      ...extra,
    },
  });
  async function refused(
    res: RawResponse,
    status: number,
    code: string,
    message: RegExp,
    target?: string,
  ): Promise<void> {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.equal(res.body.error.code, code);
    assert.match(res.body.error.message, message);
    if (target !== undefined) assert.equal(res.body.error.target, target);
  }

  before(async () => {
    t = await startTestArm({ kubernetesVersions: ["1.23.12", "1.31.13", "1.33.5"], poolCreateSeconds: 60 }, 0.001);
    await createReadyCluster(t, "rg-rules", "rules");
  });
  after(() => t.close());

  test("KataMshvVmIsolation is refused at a stable api-version", async () => {
    await refused(
      await armCall(t, "PUT", pool("mshv"), kata({ workloadRuntime: "KataMshvVmIsolation" })),
      400,
      "InvalidParameter",
      /only available at a preview api-version/,
      "properties.workloadRuntime",
    );
  });

  test("KataMshvVmIsolation needs the feature Registered, then the provider registered again", async () => {
    const body = kata({ workloadRuntime: "KataMshvVmIsolation" });
    await refused(
      await armCall(t, "PUT", pool("mshv", PREVIEW), body),
      400,
      "BadRequest",
      /KataVMIsolationPreview' to be registered .*current state: NotRegistered/,
      "properties.workloadRuntime",
    );
    // Provider registered BEFORE the feature reached Registered: still refused.
    t.arm.state.registerProvider(SUB, "Microsoft.ContainerService");
    await waitUntil(() => t.arm.state.provider(SUB, "Microsoft.ContainerService").state === "Registered");
    t.arm.state.setFeatureState(SUB, "Microsoft.ContainerService", "KataVMIsolationPreview", "Registered");
    await refused(
      await armCall(t, "PUT", pool("mshv", PREVIEW), body),
      400,
      "BadRequest",
      /registered again after the feature/,
      "properties.workloadRuntime",
    );
    // Re-registered after: accepted.
    const reg = await armCall(
      t,
      "POST",
      `/subscriptions/${SUB}/providers/Microsoft.ContainerService/register?api-version=2025-04-01`,
    );
    assert.equal(reg.body.registrationState, "Registering");
    await refused(await armCall(t, "PUT", pool("mshv", PREVIEW), body), 400, "BadRequest", /registered again/);
    await waitUntil(() => t.arm.state.provider(SUB, "Microsoft.ContainerService").state === "Registered");
    const ok = await armCall(t, "PUT", pool("mshv", PREVIEW), body);
    assert.equal(ok.status, 201, ok.text);
    await waitUntil(() => t.arm.state.cluster(SUB, "rg-rules", "rules")!.activeOp === undefined);
  });

  test("KataVmIsolation is accepted at stable and preview", async () => {
    for (const [name, v] of [
      ["kstable", STABLE],
      ["kprev", PREVIEW],
    ] as const) {
      const res = await armCall(t, "PUT", pool(name, v), kata());
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.properties.workloadRuntime, "KataVmIsolation");
      await waitUntil(() => t.arm.state.cluster(SUB, "rg-rules", "rules")!.activeOp === undefined);
    }
  });

  test("sandbox pools need osSKU AzureLinux (or AzureLinux3)", async () => {
    await refused(
      await armCall(t, "PUT", pool("badsku"), kata({ osSKU: "Ubuntu" })),
      400,
      "InvalidParameter",
      /requires osSKU 'AzureLinux' \(got 'Ubuntu'\)/,
      "properties.osSKU",
    );
    await refused(
      await armCall(t, "PUT", pool("badsku"), kata({ osSKU: undefined })),
      400,
      "InvalidParameter",
      /got 'Ubuntu', the default/,
      "properties.osSKU",
    );
  });

  test("sandbox pools need a generation 2 size", async () => {
    await refused(
      await armCall(t, "PUT", pool("gen1"), kata({ vmSize: "Standard_D2_v3" })),
      400,
      "InvalidParameter",
      /generation 2 VM size; 'Standard_D2_v3' supports only HyperVGenerations V1/,
      "properties.vmSize",
    );
  });

  test("sandbox pools need nested virtualization", async () => {
    for (const size of ["Standard_D4as_v4", "Standard_B2s", "Standard_DS2_v2"]) {
      await refused(
        await armCall(t, "PUT", pool("nonest"), kata({ vmSize: size })),
        400,
        "InvalidParameter",
        new RegExp(`supports nested virtualization .*'${size}' does not`),
        "properties.vmSize",
      );
    }
  });

  test("sandbox pools need an x64 size", async () => {
    await refused(
      await armCall(t, "PUT", pool("arm64"), kata({ vmSize: "Standard_D4ps_v5" })),
      400,
      "InvalidParameter",
      /requires an x64 VM size; 'Standard_D4ps_v5' is Arm64/,
      "properties.vmSize",
    );
  });

  test("sandbox pools need Kubernetes ≥ 1.24", async () => {
    await refused(
      await armCall(t, "PUT", pool("old"), kata({ orchestratorVersion: "1.23.12" })),
      400,
      "InvalidParameter",
      /requires Kubernetes 1\.24\.0 or later; the pool would run 1\.23\.12/,
      "properties.orchestratorVersion",
    );
    // An ordinary pool may run 1.23.
    const ok = await armCall(t, "PUT", pool("oldok"), {
      properties: { count: 1, vmSize: "Standard_D2s_v3", orchestratorVersion: "1.23.12" },
    });
    assert.equal(ok.status, 201, ok.text);
    await waitUntil(() => t.arm.state.cluster(SUB, "rg-rules", "rules")!.activeOp === undefined);
  });

  test("unknown VM sizes and Kubernetes versions are refused", async () => {
    await refused(
      await armCall(t, "PUT", pool("unknown"), { properties: { vmSize: "Standard_Nope" } }),
      400,
      "InvalidParameter",
      /VM size 'Standard_Nope' is not available/,
      "properties.vmSize",
    );
    await refused(
      await armCall(t, "PUT", pool("unknown"), {
        properties: { vmSize: "Standard_D2s_v3", orchestratorVersion: "1.99.0" },
      }),
      400,
      "K8sVersionNotSupported",
      /Version 1\.99\.0 is not supported in this region/,
      "properties.orchestratorVersion",
    );
  });

  test("agent pool name pattern", async () => {
    for (const bad of ["Kata", "1pool", "averyverylongname", "has-dash"]) {
      await refused(
        await armCall(t, "PUT", pool(bad), kata()),
        400,
        "InvalidParameter",
        new RegExp(`agent pool name '${bad}' is invalid.*\\^\\[a-z\\]\\[a-z0-9\\]\\{0,11\\}\\$`),
        "agentPoolName",
      );
    }
    const res = await armCall(
      t,
      "PUT",
      `${clusterPath("rg-rules", "other")}?api-version=${STABLE}`,
      clusterBody({ pool: { name: "Sys" } }),
    );
    await refused(
      res,
      400,
      "InvalidParameter",
      /agent pool name 'Sys' is invalid/,
      "properties.agentPoolProfiles[0].name",
    );
  });

  test("cluster name pattern", async () => {
    for (const bad of ["-lead", "trail-", "has.dot", "x".repeat(64)]) {
      await refused(
        await armCall(t, "PUT", `${clusterPath("rg-rules", bad)}?api-version=${STABLE}`, clusterBody()),
        400,
        "InvalidParameter",
        /managed cluster name .* is invalid/,
        "resourceName",
      );
    }
  });

  test("a second mutating operation while one runs → 409 OperationNotAllowed, worded as AKS", async () => {
    const first = await armCall(t, "PUT", pool("busy"), { properties: { count: 1, vmSize: "Standard_D2s_v3" } });
    assert.equal(first.status, 201);
    await refused(
      await armCall(t, "PUT", pool("second"), { properties: { count: 1, vmSize: "Standard_D2s_v3" } }),
      409,
      "OperationNotAllowed",
      /^Operation is not allowed: Another agentpool operation \(busy - Creating\) is in progress, please wait for it to finish before starting a new operation\. See https:\/\/aka\.ms\/aks-pending-operation for more details$/,
    );
    await refused(
      await armCall(t, "DELETE", pool("system")),
      409,
      "OperationNotAllowed",
      /Another agentpool operation \(busy - Creating\)/,
    );
    await waitUntil(() => t.arm.state.cluster(SUB, "rg-rules", "rules")!.activeOp === undefined);
    // A cluster update (or AKS's own background work) blocks too.
    t.arm.state.startBackgroundOperation(t.arm.state.cluster(SUB, "rg-rules", "rules")!, 60);
    await refused(
      await armCall(t, "PUT", pool("second"), { properties: { count: 1, vmSize: "Standard_D2s_v3" } }),
      409,
      "OperationNotAllowed",
      /^Operation is not allowed: Another operation \(Updating\) is in progress/,
    );
    await waitUntil(() => t.arm.state.cluster(SUB, "rg-rules", "rules")!.activeOp === undefined);
  });

  test("unknown resources → 404 ResourceNotFound; unknown resource group → 404 ResourceGroupNotFound", async () => {
    await refused(
      await armCall(t, "GET", `${clusterPath("rg-rules", "ghost")}?api-version=${STABLE}`),
      404,
      "ResourceNotFound",
      /The Resource 'Microsoft\.ContainerService\/managedClusters\/ghost' under resource group 'rg-rules' was not found/,
    );
    await refused(
      await armCall(t, "GET", pool("ghost")),
      404,
      "ResourceNotFound",
      /agentPools\/ghost' under resource group 'rg-rules' was not found/,
    );
    await refused(
      await armCall(t, "PUT", `${clusterPath("rg-missing", "c1")}?api-version=${STABLE}`, clusterBody()),
      404,
      "ResourceGroupNotFound",
      /Resource group 'rg-missing' could not be found\./,
    );
    await refused(
      await armCall(t, "GET", `/subscriptions/${SUB}/resourcegroups/rg-missing?api-version=2025-04-01`),
      404,
      "ResourceGroupNotFound",
      /rg-missing/,
    );
  });

  test("missing or unknown api-version → 400 as ARM answers", async () => {
    await refused(
      await armCall(t, "GET", clusterPath("rg-rules", "rules")),
      400,
      "MissingApiVersionParameter",
      /api-version query parameter \(\?api-version=\) is required/,
    );
    await refused(
      await armCall(t, "GET", `${clusterPath("rg-rules", "rules")}?api-version=2019-01-01`),
      400,
      "InvalidApiVersionParameter",
      /The api-version '2019-01-01' is invalid\. The supported versions are '.*2026-10-01.*2026-10-02-preview/,
    );
  });

  test("request bodies are validated against the swagger (modelAsString enums stay open)", async () => {
    await refused(
      await armCall(t, "PUT", pool("typed"), { properties: { count: "three", vmSize: "Standard_D2s_v3" } }),
      400,
      "InvalidRequestContent",
      /'properties\.count' must be integer/,
      "properties.count",
    );
    const noLocation = clusterBody();
    delete noLocation.location;
    await refused(
      await armCall(t, "PUT", `${clusterPath("rg-rules", "noloc")}?api-version=${STABLE}`, noLocation),
      400,
      "InvalidRequestContent",
      /'location' is required/,
      "location",
    );
    // sku.name "Basic" is not in the ManagedClusterSKUName enum, which is modelAsString: accepted.
    const open = await armCall(t, "PUT", `${clusterPath("rg-rules", "openenum")}?api-version=${STABLE}`, {
      ...clusterBody(),
      sku: { name: "Basic", tier: "Free" },
    });
    assert.equal(open.status, 201, open.text);
  });

  test("no bearer token → 401 with ARM's error body", async () => {
    await refused(
      await armCall(t, "GET", `${clusterPath("rg-rules", "rules")}?api-version=${STABLE}`, undefined, { auth: false }),
      401,
      "AuthenticationFailed",
      /'Authorization' header is missing/,
    );
    await refused(
      await armCall(t, "GET", `${clusterPath("rg-rules", "rules")}?api-version=${STABLE}`, undefined, {
        auth: "Basic abc",
      }),
      401,
      "InvalidAuthenticationToken",
      /access token is invalid/,
    );
  });

  test("features: unknown, gone GA and approval-required", async () => {
    const t2 = await startTestArm({
      features: {
        "Microsoft.ContainerService/KataVMIsolationPreview": { gone: true },
        "Microsoft.ContainerService/NeedsApproval": { approvalRequired: true },
      },
    });
    try {
      const base = `/subscriptions/${SUB}/providers/Microsoft.Features/providers/Microsoft.ContainerService/features`;
      await refused(
        await armCall(t2, "POST", `${base}/KataVMIsolationPreview/register?api-version=2021-07-01`),
        404,
        "FeatureNotFound",
        /^The feature 'KataVMIsolationPreview' could not be found\.$/,
      );
      await refused(
        await armCall(t2, "GET", `${base}/Unknown?api-version=2021-07-01`),
        404,
        "FeatureNotFound",
        /^The feature 'Unknown' could not be found\.$/,
      );
      const pending = await armCall(t2, "POST", `${base}/NeedsApproval/register?api-version=2021-07-01`);
      assert.equal(pending.status, 200);
      assert.equal(pending.body.properties.state, "Pending");
      t2.arm.state.approveFeature(SUB, "Microsoft.ContainerService", "NeedsApproval");
      await waitUntil(
        async () =>
          (await armCall(t2, "GET", `${base}/NeedsApproval?api-version=2021-07-01`)).body.properties.state ===
          "Registered",
      );
    } finally {
      await t2.close();
    }
  });
});
