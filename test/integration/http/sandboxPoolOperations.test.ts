import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startSimulatedAzure, type SimulatedAzure } from "../../../src/emulators/simulatedAzure.js";
import { DEMO_SUBSCRIPTION_ID } from "../../../src/config/simulatedPolicy.js";
import { startInProcessApp, type InProcessApp } from "../../support/inProcessApp.js";
import { testTls, waitUntil } from "../../support/armTestSupport.js";

const SUB = DEMO_SUBSCRIPTION_ID;
/** A subscription where the preview feature is not registered (only Admin can reach it: the policy does not list it). */
const OTHER_SUB = "22222222-2222-2222-2222-222222222222";
const SCALE = 0.005;
const RG = "rg-pf";

interface ApiError {
  error: {
    code: string;
    message: string;
    target?: string;
    details?: { code: string; message: string; target?: string }[];
  };
}
interface Report {
  ok: boolean;
  checks: { name: string; ok: boolean; code?: string; message: string }[];
  network?: { networkPolicy: string; networkDataplane?: string; policyEnforced: boolean; message: string };
}

/** Puts a Succeeded cluster straight into the emulator's state (e.g. Kubernetes 1.23, which AKS no longer offers). */
function seedCluster(azure: SimulatedAzure, sub: string, name: string, kubernetesVersion: string): void {
  const state = azure.arm.state;
  state.putResourceGroup(sub, RG, "eastus");
  const c = state.newCluster(sub, RG, name, "eastus");
  c.kubernetesVersion = kubernetesVersion;
  c.provisioningState = "Succeeded";
  c.requested = { location: "eastus", properties: { dnsPrefix: name } };
  c.pools.set("system", {
    name: "system",
    requested: { count: 1, vmSize: "Standard_D2s_v3", mode: "System", osType: "Linux" },
    provisioningState: "Succeeded",
    orchestratorVersion: kubernetesVersion,
    eTag: "e1",
    everSucceeded: true,
  });
  state.syncCloud(c);
}

describe("sandbox pool preflight through the REST API (preview flavour)", () => {
  let azure: SimulatedAzure;
  let host: InProcessApp;
  let operator: string;
  let admin: string;

  before(async () => {
    azure = await startSimulatedAzure({ tls: await testTls(), timeScale: SCALE });
    azure.arm.state.setFeatureState(SUB, "Microsoft.ContainerService", "KataVMIsolationPreview", "Registered");
    azure.arm.state.registerProvider(SUB, "Microsoft.ContainerService");
    await waitUntil(() => azure.arm.state.provider(SUB, "Microsoft.ContainerService").state === "Registered", 30_000);
    seedCluster(azure, SUB, "pf1", "1.33.5");
    seedCluster(azure, SUB, "old1", "1.23.12");
    seedCluster(azure, OTHER_SUB, "pf2", "1.33.5");
    host = await startInProcessApp({
      env: {
        SANDBOX_SIMULATE: "true",
        ARM_ENDPOINT: azure.armUrl,
        SANDBOX_SIMULATED_CA_CERT: azure.caCertPath,
        SIM_TIME_SCALE: String(SCALE),
      },
    });
    operator = await host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
    admin = await host.token({ team: "alpha", roles: ["Sandbox.Admin"] });
  });
  after(async () => {
    await host?.stop();
    await azure?.close();
  });

  const call = (method: string, path: string, token: string, body?: unknown) => host.call(method, path, token, body);
  const pools = (sub: string, cluster: string) =>
    `/subscriptions/${sub}/resourceGroups/${RG}/clusters/${cluster}/sandbox-pools`;
  const writes = (): number =>
    azure.arm.requestLog
      .entries()
      .filter(
        (e) =>
          e.method === "PUT" ||
          e.method === "DELETE" ||
          e.method === "PATCH" ||
          (e.method === "POST" && /\/(register|abort)$/i.test(e.path)),
      ).length;

  test("each preflight failure: its own code, a helpful message, no ARM write", async () => {
    const cases: {
      what: string;
      sub?: string;
      cluster?: string;
      pool?: string;
      body: Record<string, unknown>;
      status: number;
      code: string;
      check: string;
      message: RegExp;
      token?: string;
    }[] = [
      {
        what: "Gen-1 size",
        body: { vmSize: "Standard_D2_v3", nodeCount: 1 },
        status: 422,
        code: "UnsupportedVmSize",
        check: "vmSizeGeneration",
        message: /generation 1 only.*Standard_D4s_v3/,
      },
      {
        what: "no nested virtualization",
        body: { vmSize: "Standard_D4as_v4", nodeCount: 1 },
        status: 422,
        code: "UnsupportedVmSize",
        check: "vmSizeNestedVirtualization",
        message: /does not support nested virtualization/,
      },
      {
        what: "burstable",
        body: { vmSize: "Standard_B2s", nodeCount: 1 },
        status: 422,
        code: "UnsupportedVmSize",
        check: "vmSizeNestedVirtualization",
        message: /B \(burstable\).*nested virtualization/,
      },
      {
        what: "Arm64",
        body: { vmSize: "Standard_D4ps_v5", nodeCount: 1 },
        status: 422,
        code: "UnsupportedVmSize",
        check: "vmSizeArchitecture",
        message: /Arm64.*only on x64/,
      },
      {
        what: "not offered in the region",
        body: { vmSize: "Standard_D96s_v9", nodeCount: 1 },
        status: 422,
        code: "UnsupportedVmSize",
        check: "vmSizeAvailable",
        message: /not offered in eastus/,
      },
      {
        what: "Kubernetes 1.23",
        cluster: "old1",
        body: { vmSize: "Standard_D4s_v3", nodeCount: 1 },
        status: 422,
        code: "KubernetesVersionTooOld",
        check: "kubernetesVersion",
        message: /1\.23\.12.*1\.24\.0 or later/,
      },
      {
        what: "OS SKU",
        body: { vmSize: "Standard_D4s_v3", nodeCount: 1, osSku: "Ubuntu" },
        status: 422,
        code: "UnsupportedOsSku",
        check: "osSku",
        message: /only AzureLinux/,
      },
      {
        // AKS's pattern is the path parameter's pattern: the request validator answers before any check.
        what: "bad pool name",
        pool: "Bad_Pool",
        body: { vmSize: "Standard_D4s_v3", nodeCount: 1 },
        status: 400,
        code: "InvalidRequest",
        check: "path.poolName",
        message: /\^\[a-z\]\[a-z0-9\]\{0,11\}\$/,
      },
      {
        what: "feature not registered",
        sub: OTHER_SUB,
        cluster: "pf2",
        token: "admin",
        body: { vmSize: "Standard_D4s_v3", nodeCount: 1 },
        status: 409,
        code: "FeatureNotRegistered",
        check: "featureRegistered",
        message: /KataVMIsolationPreview is NotRegistered.*sandbox-feature/,
      },
      {
        what: "missing cluster",
        cluster: "nope",
        body: { vmSize: "Standard_D4s_v3", nodeCount: 1 },
        status: 404,
        code: "NotFound",
        check: "clusterExists",
        message: /was not found/,
      },
    ];
    for (const c of cases) {
      const before = writes();
      const res = await call(
        "PUT",
        `${pools(c.sub ?? SUB, c.cluster ?? "pf1")}/${c.pool ?? "kata"}`,
        c.token === "admin" ? admin : operator,
        c.body,
      );
      const body = (await res.json()) as ApiError;
      assert.equal(res.status, c.status, `${c.what}: ${JSON.stringify(body)}`);
      assert.equal(res.headers.get("x-ms-error-code"), c.code, c.what);
      assert.equal(body.error.code, c.code, c.what);
      assert.equal(body.error.target, c.check, c.what);
      assert.match(body.error.message, c.message, c.what);
      assert.ok(
        body.error.details?.some((d) => d.target === c.check),
        c.what,
      );
      assert.equal(writes(), before, `${c.what}: no ARM write`);
    }
    assert.equal(azure.arm.state.cluster(SUB, RG, "pf1")?.pools.size, 1, "no pool was added");
  });

  test("dryRun=true lists every failing check at once and changes nothing", async () => {
    const before = writes();
    const res = await call("PUT", `${pools(SUB, "old1")}/kata?dryRun=true`, operator, {
      vmSize: "Standard_D4ps_v5",
      nodeCount: 1,
      osSku: "Ubuntu",
    });
    assert.equal(res.status, 200);
    const report = (await res.json()) as Report;
    assert.equal(report.ok, false);
    const failing = Object.fromEntries(report.checks.filter((c) => !c.ok).map((c) => [c.name, c.code]));
    assert.deepEqual(failing, {
      kubernetesVersion: "KubernetesVersionTooOld",
      vmSizeArchitecture: "UnsupportedVmSize",
      vmSizeNestedVirtualization: "UnsupportedVmSize",
      osSku: "UnsupportedOsSku",
    });
    assert.ok(report.checks.every((c) => c.message.length > 10));
    // A name outside AKS's pattern is refused by the path parameter's pattern, dryRun or not.
    const badName = await call("PUT", `${pools(SUB, "old1")}/Bad_Pool?dryRun=true`, operator, {
      vmSize: "Standard_D4s_v3",
      nodeCount: 1,
    });
    assert.equal(badName.status, 400);
    assert.equal(((await badName.json()) as ApiError).error.target, "path.poolName");
    const good = (await (
      await call("PUT", `${pools(SUB, "pf1")}/kata?dryRun=true`, operator, { vmSize: "Standard_D4s_v3", nodeCount: 1 })
    ).json()) as Report;
    assert.equal(good.ok, true, JSON.stringify(good));
    assert.deepEqual(
      good.checks.map((c) => c.name),
      [
        "poolName",
        "clusterExists",
        "kubernetesVersion",
        "vmSizeAvailable",
        "vmSizeArchitecture",
        "vmSizeGeneration",
        "vmSizeNestedVirtualization",
        "osSku",
        "featureRegistered",
        "providerRegistered",
        "noConflictingOperation",
      ],
    );
    // The cluster's network policy engine (its networkProfile names none): containment would not be enforced.
    assert.deepEqual([good.network?.networkPolicy, good.network?.policyEnforced], ["none", false]);
    assert.match(good.network?.message ?? "", /NetworkPolicyUnsupported/);
    assert.equal(writes(), before);
  });

  test("cluster create and enable-sandboxing refuse unsuitable sizes before any ARM write (no resource group either)", async () => {
    const before = writes();
    const created = await call("PUT", `/subscriptions/${SUB}/resourceGroups/rg-new/clusters/c9`, operator, {
      location: "eastus",
      nodeVmSize: "Standard_B2s",
    });
    assert.equal(created.status, 422);
    assert.equal(((await created.json()) as ApiError).error.code, "UnsupportedVmSize");
    const old = await call("PUT", `/subscriptions/${SUB}/resourceGroups/rg-new/clusters/c9`, operator, {
      location: "eastus",
      kubernetesVersion: "1.23",
    });
    assert.equal(old.status, 422);
    assert.equal(((await old.json()) as ApiError).error.code, "KubernetesVersionTooOld");
    const dry = (await (
      await call("PUT", `/subscriptions/${SUB}/resourceGroups/rg-new/clusters/c9?dryRun=true`, operator, {
        location: "eastus",
        nodeVmSize: "Standard_D2_v3",
        kubernetesVersion: "1.23",
      })
    ).json()) as Report;
    assert.deepEqual(
      dry.checks
        .filter((c) => !c.ok)
        .map((c) => c.name)
        .sort(),
      ["kubernetesVersion", "vmSizeGeneration"],
    );
    // The cluster the service would create runs Azure CNI powered by Cilium: containment will be enforced.
    assert.deepEqual(
      [dry.network?.networkDataplane, dry.network?.networkPolicy, dry.network?.policyEnforced],
      ["cilium", "cilium", true],
    );
    const enable = await call(
      "POST",
      `/subscriptions/${SUB}/resourceGroups/${RG}/clusters/pf1/enable-sandboxing`,
      operator,
      { vmSize: "Standard_D4ps_v5" },
    );
    assert.equal(enable.status, 422);
    assert.equal(((await enable.json()) as ApiError).error.code, "UnsupportedVmSize");
    assert.equal(writes(), before);
    assert.equal(azure.arm.state.resourceGroup(SUB, "rg-new"), undefined);
  });

  test("a pool whose RuntimeClass does not appear gets the enable-sandboxing update, then Succeeded", async () => {
    seedCluster(azure, SUB, "norc1", "1.33.5");
    azure.cloud.runtimeClassNeedsClusterUpdate = true;
    try {
      const started = await call("PUT", `${pools(SUB, "norc1")}/kata`, operator, {
        vmSize: "Standard_D4s_v3",
        nodeCount: 1,
      });
      assert.equal(started.status, 202, await started.clone().text());
      const { id } = (await started.json()) as { id: string };
      let op: { status: string; steps: { name: string; status: string }[] } | undefined;
      for (let i = 0; i < 600; i++) {
        op = (await (await call("GET", `/operations/${id}`, operator)).json()) as typeof op;
        if (op && ["Succeeded", "Failed", "Canceled"].includes(op.status)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(op?.status, "Succeeded", JSON.stringify(op));
      assert.deepEqual(
        op.steps.map((x) => `${x.name}:${x.status}`),
        [
          "CreateAgentPool:Succeeded",
          "WaitForRuntimeClass:Succeeded",
          "PrepareEnableSandboxing:Succeeded",
          "EnableSandboxing:Succeeded",
          "ConfirmRuntimeClass:Succeeded",
        ],
      );
      const log = azure.arm.requestLog
        .entries()
        .filter((e) => e.method === "PUT" && /norc1/.test(e.path))
        .map((e) => e.path.replace(/\?.*$/, "").split("/").slice(-2).join("/"));
      assert.deepEqual(
        log,
        ["agentPools/kata", "managedClusters/norc1"],
        "the pool PUT, then the az aks update re-PUT of the cluster",
      );
    } finally {
      azure.cloud.runtimeClassNeedsClusterUpdate = false;
    }
  });

  test("when the RuntimeClass appears with the pool, the enable-sandboxing steps make no ARM call", async () => {
    seedCluster(azure, SUB, "rc1", "1.33.5");
    const started = await call("PUT", `${pools(SUB, "rc1")}/kata`, operator, {
      vmSize: "Standard_D4s_v3",
      nodeCount: 1,
    });
    const { id } = (await started.json()) as { id: string };
    let op: { status: string } | undefined;
    for (let i = 0; i < 600; i++) {
      op = (await (await call("GET", `/operations/${id}`, operator)).json()) as typeof op;
      if (op && ["Succeeded", "Failed", "Canceled"].includes(op.status)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(op?.status, "Succeeded");
    const clusterPuts = azure.arm.requestLog
      .entries()
      .filter((e) => e.method === "PUT" && /managedClusters\/rc1(\?|$)/.test(e.path));
    assert.equal(clusterPuts.length, 0);
  });

  test("a Pending feature (approval needed) ends RegisterSandboxFeature Failed with a message saying so", async () => {
    azure.arm.state.setFeatureState(OTHER_SUB, "Microsoft.ContainerService", "KataVMIsolationPreview", "Pending");
    const res = await call("PUT", `/subscriptions/${OTHER_SUB}/sandbox-feature`, admin);
    assert.equal(res.status, 202);
    const id = ((await res.json()) as { id: string }).id;
    let op: { status: string; error?: { code: string; message: string } } = { status: "Running" };
    await waitUntil(
      async () => {
        op = (await (await call("GET", `/operations/${id}`, admin)).json()) as typeof op;
        return op.status !== "Running" && op.status !== "NotStarted";
      },
      30_000,
      40,
    );
    assert.equal(op.status, "Failed");
    assert.equal(op.error?.code, "FeatureNotRegistered");
    assert.match(op.error?.message ?? "", /Pending.*needs approval/);
    // The subscription is outside team alpha's policy: Operators cannot touch it.
    assert.equal(
      (
        await call(
          "PUT",
          `/subscriptions/${OTHER_SUB}/sandbox-feature`,
          await host.token({ team: "alpha", roles: ["Sandbox.Admin"] }),
        )
      ).status,
      202,
    );
    assert.equal((await call("GET", `/subscriptions/${OTHER_SUB}/sandbox-feature`, operator)).status, 404);
  });
});
