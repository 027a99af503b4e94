import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startSimulatedAzure, type SimulatedAzure } from "../../../src/emulators/simulatedAzure.js";
import { DEMO_SUBSCRIPTION_ID } from "../../../src/config/simulatedPolicy.js";
import { startInProcessApp, type InProcessApp } from "../../support/inProcessApp.js";
import { armCall, testTls, waitUntil } from "../../support/armTestSupport.js";

const SUB = DEMO_SUBSCRIPTION_ID;
const SCALE = 0.005;
const RG = "rg-walk";

interface Op {
  id: string;
  status: string;
  kind: string;
  steps: { name: string; status: string; message?: string }[];
  result?: Record<string, unknown>;
  error?: { code: string; message: string };
}

/** ARM writes in the emulator's request log (PUT/DELETE/PATCH and POST register/abort). */
function armWrites(azure: SimulatedAzure): string[] {
  return azure.arm.requestLog
    .entries()
    .filter(
      (e) =>
        e.method === "PUT" ||
        e.method === "DELETE" ||
        e.method === "PATCH" ||
        (e.method === "POST" && /\/(register|abort)$/i.test(e.path)),
    )
    .map((e) => `${e.method} ${e.path}`);
}

// The two flavours on simulated Azures and apps of their own, side by side; each one's tests in order
// (nested suites inherit the outer concurrency).
describe("cluster operations in both flavours", { concurrency: 2 }, () => {
  describe("sandbox infrastructure through the REST API (preview flavour, simulated Azure)", { concurrency: 1 }, () => {
    let azure: SimulatedAzure;
    let host: InProcessApp;
    let admin: string;
    let operator: string;
    let reader: string;

    before(async () => {
      azure = await startSimulatedAzure({ tls: await testTls(), timeScale: SCALE });
      host = await startInProcessApp({
        env: {
          SANDBOX_SIMULATE: "true",
          ARM_ENDPOINT: azure.armUrl,
          SANDBOX_SIMULATED_CA_CERT: azure.caCertPath,
          SIM_TIME_SCALE: String(SCALE),
        },
      });
      admin = await host.token({ team: "alpha", roles: ["Sandbox.Admin"] });
      operator = await host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
      reader = await host.token({ team: "beta", roles: ["Sandbox.Reader"] });
    });
    after(async () => {
      await host?.stop();
      await azure?.close();
    });

    const call = (method: string, path: string, token: string, body?: unknown) => host.call(method, path, token, body);
    const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
    const cluster = (name: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/clusters/${name}`;

    /** Polls the operation through the API (a due GET advances it) until it ends. */
    async function finished(id: string, seen?: Set<string>): Promise<Op> {
      let op: Op | undefined;
      await waitUntil(
        async () => {
          op = await json<Op>(await call("GET", `/operations/${id}`, admin));
          for (const s of op.steps) if (s.message) seen?.add(s.message);
          return op.status !== "Running" && op.status !== "NotStarted";
        },
        60_000,
        40,
      );
      return op!;
    }

    test("seed walkthrough: feature → cluster → pool on an existing cluster → enable-sandboxing → ready → delete", async () => {
      // 1. The feature: NotRegistered → operation (Registering → Registered, then the provider).
      const before = await json<{ featureState: string; ready: boolean; flavor: string }>(
        await call("GET", `/subscriptions/${SUB}/sandbox-feature`, reader),
      );
      assert.equal(before.flavor, "preview");
      assert.equal(before.featureState, "NotRegistered");
      assert.equal(before.ready, false);
      const reg = await call("PUT", `/subscriptions/${SUB}/sandbox-feature`, admin);
      assert.equal(reg.status, 202);
      const regOp = await json<Op>(reg);
      assert.deepEqual(
        regOp.steps.map((s) => s.name),
        ["RegisterFeature", "WaitForFeature", "RegisterProvider", "WaitForProvider"],
      );
      const messages = new Set<string>();
      const regDone = await finished(regOp.id, messages);
      assert.equal(regDone.status, "Succeeded", JSON.stringify(regDone));
      assert.ok(
        [...messages].some((m) => /is Registering/.test(m)),
        [...messages].join(" | "),
      );
      assert.equal(regDone.result?.ready, true);
      const registered = await json<{ featureState: string; providerState: string; ready: boolean }>(
        await call("GET", `/subscriptions/${SUB}/sandbox-feature`, reader),
      );
      assert.deepEqual(
        [registered.featureState, registered.providerState, registered.ready],
        ["Registered", "Registered", true],
      );
      // Repeating the PUT: 200, no ARM write.
      const writes0 = armWrites(azure).length;
      const again = await call("PUT", `/subscriptions/${SUB}/sandbox-feature`, admin);
      assert.equal(again.status, 200);
      assert.equal(armWrites(azure).length, writes0);

      // 2. A cluster whose default pool runs the sandbox runtime (the resource group is created too).
      const created = await call("PUT", cluster("walk1"), operator, { location: "eastus" });
      assert.equal(created.status, 202, await created.clone().text());
      const createOp = await finished((await json<Op>(created)).id);
      assert.equal(createOp.status, "Succeeded", JSON.stringify(createOp));
      assert.deepEqual(
        createOp.steps.map((s) => s.name),
        ["EnsureResourceGroup", "CreateManagedCluster", "WaitForRuntimeClass"],
      );
      const createdView = createOp.result as {
        sandbox: {
          ready: boolean;
          runtimeClassName: string;
          pools: { name: string; workloadRuntime: string; osSku: string; capacity: unknown }[];
        };
      };
      assert.equal(createdView.sandbox.ready, true);
      assert.equal(createdView.sandbox.runtimeClassName, "kata-mshv-vm-isolation");
      assert.deepEqual(createdView.sandbox.pools[0], {
        name: "system",
        vmSize: "Standard_D4s_v3",
        nodeCount: 1,
        workloadRuntime: "KataMshvVmIsolation",
        osSku: "AzureLinux",
        provisioningState: "Succeeded",
        capacity: { vCpuPerNode: 4, memoryGiBPerNode: 16, defaultSandboxesPerNode: 4 },
      });
      const mc = azure.arm.state.cluster(SUB, RG, "walk1")!;
      assert.equal(mc.pools.get("system")?.requested.workloadRuntime, "KataMshvVmIsolation");
      // Same PUT again: 200, no new ARM write.
      const w1 = armWrites(azure).length;
      const same = await call("PUT", cluster("walk1"), operator, { location: "eastus" });
      assert.equal(same.status, 200);
      assert.equal(armWrites(azure).length, w1);

      // 3. An existing cluster without sandboxing (created outside the API), then a sandbox pool on it.
      const plain = await armCall(
        { arm: azure.arm, tls: await testTls() },
        "PUT",
        `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/plain1?api-version=2026-10-01`,
        {
          location: "eastus",
          properties: {
            dnsPrefix: "plain1",
            agentPoolProfiles: [
              { name: "system", count: 1, vmSize: "Standard_D2s_v3", mode: "System", osType: "Linux" },
            ],
          },
        },
      );
      assert.ok(plain.status === 201 || plain.status === 200, plain.text);
      await waitUntil(() => azure.arm.state.cluster(SUB, RG, "plain1")?.provisioningState === "Succeeded", 30_000);
      const notReady = await json<{
        sandbox: { ready: boolean; runtimeClassFound: boolean; pools: unknown[]; message: string };
      }>(await call("GET", cluster("plain1"), operator));
      assert.deepEqual(
        [notReady.sandbox.ready, notReady.sandbox.runtimeClassFound, notReady.sandbox.pools.length],
        [false, false, 0],
      );
      const addPool = await call("PUT", `${cluster("plain1")}/sandbox-pools/kata1`, operator, {
        vmSize: "Standard_D4s_v5",
        nodeCount: 2,
      });
      assert.equal(addPool.status, 202, await addPool.clone().text());
      const poolOp = await finished((await json<Op>(addPool)).id);
      assert.equal(poolOp.status, "Succeeded", JSON.stringify(poolOp));
      assert.deepEqual(
        poolOp.steps.map((s) => s.name),
        [
          "CreateAgentPool",
          "WaitForRuntimeClass",
          "PrepareEnableSandboxing",
          "EnableSandboxing",
          "ConfirmRuntimeClass",
        ],
      );
      assert.deepEqual(poolOp.result, {
        name: "kata1",
        vmSize: "Standard_D4s_v5",
        nodeCount: 2,
        workloadRuntime: "KataMshvVmIsolation",
        osSku: "AzureLinux",
        provisioningState: "Succeeded",
        capacity: { vCpuPerNode: 4, memoryGiBPerNode: 16, defaultSandboxesPerNode: 4 },
      });
      const onePool = await json<{ name: string; capacity: { defaultSandboxesPerNode: number } }>(
        await call("GET", `${cluster("plain1")}/sandbox-pools/kata1`, operator),
      );
      assert.equal(onePool.capacity.defaultSandboxesPerNode, 4);
      const list = await json<{ value: { name: string }[] }>(
        await call("GET", `${cluster("plain1")}/sandbox-pools`, operator),
      );
      assert.deepEqual(
        list.value.map((p) => p.name),
        ["kata1"],
      );
      assert.equal(
        (await call("GET", `${cluster("plain1")}/sandbox-pools/system`, operator)).status,
        404,
        "the non-sandbox system pool is not a sandbox pool",
      );
      const w2 = armWrites(azure).length;
      assert.equal(
        (
          await call("PUT", `${cluster("plain1")}/sandbox-pools/kata1`, operator, {
            vmSize: "Standard_D4s_v5",
            nodeCount: 2,
          })
        ).status,
        200,
      );
      assert.equal(armWrites(azure).length, w2);

      // 4. enable-sandboxing on a plain cluster: the az aks update PUT adds a sandbox pool, then the RuntimeClass is confirmed.
      const plain2 = await armCall(
        { arm: azure.arm, tls: await testTls() },
        "PUT",
        `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.ContainerService/managedClusters/plain2?api-version=2026-10-01`,
        {
          location: "eastus",
          properties: {
            dnsPrefix: "plain2",
            agentPoolProfiles: [
              { name: "system", count: 1, vmSize: "Standard_D2s_v3", mode: "System", osType: "Linux" },
            ],
          },
        },
      );
      assert.ok(plain2.status === 201, plain2.text);
      await waitUntil(() => azure.arm.state.cluster(SUB, RG, "plain2")?.provisioningState === "Succeeded", 30_000);
      const enable = await call("POST", `${cluster("plain2")}/enable-sandboxing`, operator);
      assert.equal(enable.status, 202, await enable.clone().text());
      const enableOp = await finished((await json<Op>(enable)).id);
      assert.equal(enableOp.status, "Succeeded", JSON.stringify(enableOp));
      assert.deepEqual(
        enableOp.steps.map((s) => s.name),
        ["PrepareUpdate", "UpdateManagedCluster", "WaitForRuntimeClass"],
      );
      const clusterPuts = azure.arm.requestLog
        .entries()
        .filter((e) => e.method === "PUT" && /managedClusters\/plain2$/.test(e.path));
      assert.equal(clusterPuts.length, 2, "the create (outside) and the az aks update PUT");
      assert.equal(
        azure.arm.state.cluster(SUB, RG, "plain2")?.pools.get("sandbox")?.requested.workloadRuntime,
        "KataMshvVmIsolation",
      );
      assert.equal(
        azure.arm.state.cluster(SUB, RG, "plain2")?.pools.get("system")?.requested.workloadRuntime ?? "OCIContainer",
        "OCIContainer",
      );
      // Already enabled → 200, no ARM write; GET shows ready and the runtime class.
      const w3 = armWrites(azure).length;
      const enabledAgain = await call("POST", `${cluster("plain2")}/enable-sandboxing`, operator);
      assert.equal(enabledAgain.status, 200);
      assert.equal(armWrites(azure).length, w3);
      const view = await json<{
        sandbox: { ready: boolean; runtimeClassName: string; runtimeClassFound: boolean; pools: { name: string }[] };
      }>(await call("GET", cluster("plain2"), operator));
      assert.deepEqual(
        [view.sandbox.ready, view.sandbox.runtimeClassName, view.sandbox.runtimeClassFound],
        [true, "kata-mshv-vm-isolation", true],
      );
      assert.deepEqual(
        view.sandbox.pools.map((p) => p.name),
        ["sandbox"],
      );

      // 5. Cleanup: the pool, then the clusters.
      const delPool = await call("DELETE", `${cluster("plain1")}/sandbox-pools/kata1`, operator);
      assert.equal(delPool.status, 202);
      assert.equal((await finished((await json<Op>(delPool)).id)).status, "Succeeded");
      assert.equal((await call("GET", `${cluster("plain1")}/sandbox-pools/kata1`, operator)).status, 404);
      assert.equal((await call("DELETE", `${cluster("plain1")}/sandbox-pools/kata1`, operator)).status, 204);
      for (const name of ["walk1", "plain1", "plain2"]) {
        const del = await call("DELETE", cluster(name), operator);
        assert.equal(del.status, 202);
        assert.equal((await finished((await json<Op>(del)).id)).status, "Succeeded");
        assert.equal((await call("GET", cluster(name), operator)).status, 404);
        assert.equal((await call("DELETE", cluster(name), operator)).status, 204);
      }
    });
  });

  describe(
    "GA flavour (SANDBOX_FLAVOR=ga): no feature registration, KataVmIsolation / kata-vm-isolation",
    { concurrency: 1 },
    () => {
      let azure: SimulatedAzure;
      let host: InProcessApp;
      let admin: string;
      let operator: string;

      before(async () => {
        azure = await startSimulatedAzure({ tls: await testTls(), timeScale: SCALE });
        host = await startInProcessApp({
          env: {
            SANDBOX_SIMULATE: "true",
            SANDBOX_FLAVOR: "ga",
            ARM_ENDPOINT: azure.armUrl,
            SANDBOX_SIMULATED_CA_CERT: azure.caCertPath,
            SIM_TIME_SCALE: String(SCALE),
          },
        });
        admin = await host.token({ team: "alpha", roles: ["Sandbox.Admin"] });
        operator = await host.token({ team: "alpha", roles: ["Sandbox.Operator"] });
      });
      after(async () => {
        await host?.stop();
        await azure?.close();
      });

      const call = (method: string, path: string, token: string, body?: unknown) =>
        host.call(method, path, token, body);

      test("feature: 200 ready without touching Microsoft.Features; cluster and pool use the GA names", async () => {
        const put = await call("PUT", `/subscriptions/${SUB}/sandbox-feature`, admin);
        assert.equal(put.status, 200);
        const view = (await put.json()) as { flavor: string; ready: boolean; featureState: string };
        assert.deepEqual([view.flavor, view.ready, view.featureState], ["ga", true, "NotRequired"]);
        assert.equal(azure.arm.requestLog.entries().filter((e) => /Microsoft\.Features/i.test(e.path)).length, 0);

        const created = await call("PUT", `/subscriptions/${SUB}/resourceGroups/rg-ga/clusters/ga1`, operator, {
          location: "westeurope",
          nodeVmSize: "Standard_D8s_v3",
          kubernetesVersion: "1.32",
        });
        assert.equal(created.status, 202, await created.clone().text());
        const id = ((await created.json()) as Op).id;
        let op: Op | undefined;
        await waitUntil(
          async () => {
            op = (await (await call("GET", `/operations/${id}`, operator)).json()) as Op;
            return op.status !== "Running" && op.status !== "NotStarted";
          },
          60_000,
          40,
        );
        assert.equal(op?.status, "Succeeded", JSON.stringify(op));
        const mc = azure.arm.state.cluster(SUB, "rg-ga", "ga1")!;
        assert.equal(mc.pools.get("system")?.requested.workloadRuntime, "KataVmIsolation");
        assert.equal(mc.pools.get("system")?.requested.osSKU, "AzureLinux");
        assert.equal(mc.kubernetesVersion.startsWith("1.32."), true);
        const clusterPut = azure.arm.requestLog
          .entries()
          .find((e) => e.method === "PUT" && /managedClusters\/ga1$/.test(e.path));
        assert.equal(clusterPut?.apiVersion, "2026-10-01");

        const pool = await call(
          "PUT",
          `/subscriptions/${SUB}/resourceGroups/rg-ga/clusters/ga1/sandbox-pools/kata2`,
          operator,
          { vmSize: "Standard_E4s_v5", nodeCount: 1 },
        );
        assert.equal(pool.status, 202, await pool.clone().text());
        const poolId = ((await pool.json()) as Op).id;
        await waitUntil(
          async () => {
            op = (await (await call("GET", `/operations/${poolId}`, operator)).json()) as Op;
            return op.status !== "Running" && op.status !== "NotStarted";
          },
          60_000,
          40,
        );
        assert.equal(op?.status, "Succeeded", JSON.stringify(op));
        assert.deepEqual((op?.result as { workloadRuntime: string; capacity: unknown }).capacity, {
          vCpuPerNode: 4,
          memoryGiBPerNode: 32,
          defaultSandboxesPerNode: 4,
        });

        const got = (await (
          await call("GET", `/subscriptions/${SUB}/resourceGroups/rg-ga/clusters/ga1`, operator)
        ).json()) as {
          sandbox: {
            ready: boolean;
            runtimeClassName: string;
            workloadRuntime: string;
            pools: { name: string; workloadRuntime: string }[];
          };
        };
        assert.deepEqual(
          [got.sandbox.ready, got.sandbox.runtimeClassName, got.sandbox.workloadRuntime],
          [true, "kata-vm-isolation", "KataVmIsolation"],
        );
        assert.deepEqual(
          got.sandbox.pools.map((p) => [p.name, p.workloadRuntime]),
          [
            ["system", "KataVmIsolation"],
            ["kata2", "KataVmIsolation"],
          ],
        );
        assert.equal(
          azure.arm.requestLog.entries().filter((e) => /preview/.test(e.apiVersion ?? "")).length,
          0,
          "no preview api-version in GA",
        );
      });
    },
  );
});
