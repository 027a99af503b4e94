import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { ApiException, BatchV1Api, CoreV1Api, NodeV1Api, type V1Job } from "@kubernetes/client-node";
import {
  KubernetesSchemaValidator,
  type KubernetesSchemaKind,
} from "../../../../src/emulators/kubernetes/kubernetesSchemaValidator.js";
import {
  addTestCluster,
  eventually,
  jobManifest,
  rawRequest,
  startKubernetesTestEnv,
  testPool,
  type KubernetesTestEnv,
} from "../../../support/kubernetesTestCluster.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is probed freely in assertions */

/* The emulator seen through @kubernetes/client-node 1.4 and raw HTTPS, checked against the official OpenAPI v3 schemas. */

const schemas = new KubernetesSchemaValidator();

function assertSchema(kind: KubernetesSchemaKind, value: unknown): void {
  assert.deepEqual(schemas.validate(kind, value), [], `${kind} must match the official schema`);
}

function statusOf(error: unknown): { code: number; body: any } {
  assert.ok(error instanceof ApiException, `expected ApiException, got ${String(error)}`);
  const body: unknown = typeof error.body === "string" ? JSON.parse(error.body) : error.body;
  return { code: error.code, body };
}

describe("Kubernetes emulator contract (client-node + official schemas)", () => {
  let env: KubernetesTestEnv;
  let batch: BatchV1Api;
  let core: CoreV1Api;
  let nodeApi: NodeV1Api;

  before(async () => {
    env = await startKubernetesTestEnv({ scale: 0.002 });
    batch = env.kc.makeApiClient(BatchV1Api);
    core = env.kc.makeApiClient(CoreV1Api);
    nodeApi = env.kc.makeApiClient(NodeV1Api);
  });
  after(async () => env.close());

  test("/version names the cluster version; discovery lists the served resources", async () => {
    const version = await rawRequest(env, "GET", "/version");
    assert.equal(version.status, 200);
    assert.equal(version.json.gitVersion, "v1.30.6");
    assert.equal(version.json.major, "1");
    assert.equal(version.json.minor, "30");
    const api = await rawRequest(env, "GET", "/api");
    // APIVersions has no schema in the reference documents; check its shape directly.
    assert.equal(api.json.kind, "APIVersions");
    assert.deepEqual(api.json.versions, ["v1"]);
    const groups = await rawRequest(env, "GET", "/apis");
    assert.equal(groups.json.kind, "APIGroupList");
    assert.deepEqual(groups.json.groups.map((g: any) => g.name).sort(), ["batch", "networking.k8s.io", "node.k8s.io"]);
    for (const [path, resource] of [
      ["/api/v1", "pods"],
      ["/api/v1", "resourcequotas"],
      ["/api/v1", "limitranges"],
      ["/api/v1", "serviceaccounts"],
      ["/apis/batch/v1", "jobs"],
      ["/apis/node.k8s.io/v1", "runtimeclasses"],
      ["/apis/networking.k8s.io/v1", "networkpolicies"],
    ] as const) {
      const list = await rawRequest(env, "GET", path);
      assert.equal(list.headers["content-type"], "application/json");
      assertSchema("APIResourceList", list.json);
      assert.ok(
        list.json.resources.some((r: any) => r.name === resource),
        `${path} lists ${resource}`,
      );
    }
  });

  test("nodes derive from the sandbox pool: labels, capacity and the node kernel", async () => {
    const nodes = await core.listNode();
    assert.equal(nodes.items.length, 1);
    const node = nodes.items[0];
    assert.equal(node?.metadata?.labels?.["kubernetes.azure.com/kata-mshv-vm-isolation"], "true");
    assert.equal(node?.metadata?.labels?.["kubernetes.azure.com/agentpool"], "sandbox");
    assert.equal(node?.metadata?.labels?.["node.kubernetes.io/instance-type"], "Standard_D4s_v3");
    assert.equal(node?.metadata?.labels?.["kubernetes.io/os"], "linux");
    assert.equal(node?.status?.nodeInfo?.kernelVersion, "5.15.80.mshv2-hvl1.m2");
    assert.equal(node?.status?.nodeInfo?.osImage, "CBL-Mariner/Linux");
    assert.match(node?.status?.nodeInfo?.containerRuntimeVersion ?? "", /^containerd:\/\//);
    assert.equal(node?.status?.capacity?.cpu, "4");
    const raw = await rawRequest(env, "GET", "/api/v1/nodes");
    assertSchema("NodeList", raw.json);
    const one = await rawRequest(env, "GET", `/api/v1/nodes/${node?.metadata?.name ?? ""}`);
    assertSchema("Node", one.json);
  });

  test("RuntimeClasses: kata-mshv-vm-isolation with its node selector; none for a cluster without sandbox pools", async () => {
    const rc = await nodeApi.readRuntimeClass({ name: "kata-mshv-vm-isolation" });
    assert.equal(rc.handler, "kata-mshv-vm-isolation");
    assert.deepEqual(rc.scheduling?.nodeSelector, { "kubernetes.azure.com/kata-mshv-vm-isolation": "true" });
    const raw = await rawRequest(env, "GET", "/apis/node.k8s.io/v1/runtimeclasses");
    assertSchema("RuntimeClassList", raw.json);
    assertSchema("RuntimeClass", raw.json.items[0]);

    const plain = addTestCluster(env.cloud, "plain", [testPool({ name: "system", workloadRuntime: "OCIContainer" })]);
    const none = await rawRequest(env, "GET", "/apis/node.k8s.io/v1/runtimeclasses", {
      clusterKey: plain.key,
      token: plain.bearerToken,
    });
    assert.deepEqual(none.json.items, []);
    // A GA-flavour pool still provisioning: no class until it has succeeded once.
    env.cloud.upsertPool(
      plain.key,
      testPool({
        name: "kata",
        workloadRuntime: "KataVmIsolation",
        provisioningState: "Creating",
        everSucceeded: false,
      }),
    );
    const missing = await rawRequest(env, "GET", "/apis/node.k8s.io/v1/runtimeclasses/kata-vm-isolation", {
      clusterKey: plain.key,
      token: plain.bearerToken,
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.json.reason, "NotFound");
    assert.equal(missing.json.message, 'runtimeclasses.node.k8s.io "kata-vm-isolation" not found');
    env.cloud.upsertPool(
      plain.key,
      testPool({
        name: "kata",
        workloadRuntime: "KataVmIsolation",
        provisioningState: "Succeeded",
        everSucceeded: true,
      }),
    );
    const ga = await rawRequest(env, "GET", "/apis/node.k8s.io/v1/runtimeclasses/kata-vm-isolation", {
      clusterKey: plain.key,
      token: plain.bearerToken,
    });
    assert.equal(ga.status, 200);
    assert.deepEqual(ga.json.scheduling.nodeSelector, { "kubernetes.azure.com/kata-vm-isolation": "true" });
    const nodes = await rawRequest(env, "GET", "/api/v1/nodes", { clusterKey: plain.key, token: plain.bearerToken });
    const kataNode = nodes.json.items.find((n: any) => n.metadata.labels.agentpool === "kata");
    assert.equal(kataNode.metadata.labels["kubernetes.azure.com/kata-vm-isolation"], "true");
    const systemNode = nodes.json.items.find((n: any) => n.metadata.labels.agentpool === "system");
    assert.equal(systemNode.metadata.labels["kubernetes.azure.com/kata-vm-isolation"], undefined);
    assert.notEqual(systemNode.status.nodeInfo.kernelVersion, "5.15.80.mshv2-hvl1.m2");
  });

  test("namespaces: default and kube-system exist; create, get, list; AlreadyExists", async () => {
    const list = await core.listNamespace();
    const names = list.items.map((n) => n.metadata?.name);
    assert.ok(names.includes("default") && names.includes("kube-system"));
    const created = await core.createNamespace({ body: { metadata: { name: "team-a" } } });
    assert.equal(created.status?.phase, "Active");
    const raw = await rawRequest(env, "GET", "/api/v1/namespaces/team-a");
    assertSchema("Namespace", raw.json);
    assert.equal(raw.json.kind, "Namespace");
    await assert.rejects(core.createNamespace({ body: { metadata: { name: "team-a" } } }), (e) => {
      const { code, body } = statusOf(e);
      assert.equal(code, 409);
      assert.equal(body.reason, "AlreadyExists");
      assert.equal(body.message, 'namespaces "team-a" already exists');
      assertSchema("Status", body);
      return true;
    });
    const bad = await rawRequest(env, "POST", "/api/v1/namespaces", {
      body: { apiVersion: "v1", kind: "Namespace", metadata: { name: "team.b" } },
    });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.details.causes[0].field, "metadata.name");
  });

  test("Jobs: create, read, list (label selectors, all namespaces), logs, delete with propagation", async () => {
    const body = jobManifest("hello", { command: ["sh", "-c", "echo line-1; echo line-2; echo line-3"] });
    const created: V1Job = await batch.createNamespacedJob({ namespace: "default", body });
    assert.equal(created.metadata?.name, "hello");
    assert.equal(created.spec?.backoffLimit, 6, "apiserver default");
    const uid = created.metadata?.uid ?? "";
    assert.equal(created.spec?.selector?.matchLabels?.["batch.kubernetes.io/controller-uid"], uid);
    assert.equal(created.spec?.template.metadata?.labels?.["batch.kubernetes.io/job-name"], "hello");

    const done = await eventually(async () => {
      const job = await batch.readNamespacedJob({ name: "hello", namespace: "default" });
      return job.status?.conditions?.some((c) => c.type === "Complete") ? job : undefined;
    }, "job hello to complete");
    assert.equal(done.status?.succeeded, 1);

    const raw = await rawRequest(env, "GET", "/apis/batch/v1/namespaces/default/jobs/hello");
    assertSchema("Job", raw.json);
    assert.equal(raw.json.kind, "Job");
    assert.equal(raw.json.apiVersion, "batch/v1");

    const selected = await batch.listNamespacedJob({
      namespace: "default",
      labelSelector: "app in (emulator-test),job-name=hello",
    });
    assert.deepEqual(
      selected.items.map((j) => j.metadata?.name),
      ["hello"],
    );
    const notSelected = await batch.listNamespacedJob({
      namespace: "default",
      labelSelector: "app notin (emulator-test)",
    });
    assert.equal(notSelected.items.length, 0);
    const all = await batch.listJobForAllNamespaces();
    assert.ok(all.items.some((j) => j.metadata?.name === "hello"));
    const rawList = await rawRequest(env, "GET", "/apis/batch/v1/jobs");
    assertSchema("JobList", rawList.json);
    assert.equal(rawList.json.kind, "JobList");

    const pods = await core.listNamespacedPod({
      namespace: "default",
      labelSelector: "batch.kubernetes.io/job-name=hello",
    });
    assert.equal(pods.items.length, 1);
    const pod = pods.items[0];
    const podName = pod?.metadata?.name ?? "";
    assert.match(podName, /^hello-[a-z0-9]{5}$/);
    assert.equal(pod?.metadata?.labels?.["job-name"], "hello");
    assert.equal(pod?.metadata?.labels?.["controller-uid"], uid);
    assert.equal(pod?.metadata?.ownerReferences?.[0]?.uid, uid);
    assert.equal(pod?.status?.phase, "Succeeded");
    const podRaw = await rawRequest(env, "GET", `/api/v1/namespaces/default/pods/${podName}`);
    assertSchema("Pod", podRaw.json);
    const podList = await rawRequest(env, "GET", "/api/v1/pods?fieldSelector=status.phase%3DSucceeded");
    assertSchema("PodList", podList.json);
    assert.ok(podList.json.items.some((p: any) => p.metadata.name === podName));

    assert.equal(await core.readNamespacedPodLog({ name: podName, namespace: "default" }), "line-1\nline-2\nline-3\n");
    assert.equal(await core.readNamespacedPodLog({ name: podName, namespace: "default", tailLines: 1 }), "line-3\n");
    assert.equal(await core.readNamespacedPodLog({ name: podName, namespace: "default", limitBytes: 9 }), "line-1\nli");
    const logRaw = await rawRequest(env, "GET", `/api/v1/namespaces/default/pods/${podName}/log?container=main`);
    assert.equal(logRaw.headers["content-type"], "text/plain");
    const badContainer = await rawRequest(env, "GET", `/api/v1/namespaces/default/pods/${podName}/log?container=nope`);
    assert.equal(badContainer.status, 400);
    assert.equal(badContainer.json.reason, "BadRequest");

    const events = await core.listNamespacedEvent({ namespace: "default", fieldSelector: "involvedObject.name=hello" });
    assert.deepEqual(
      events.items.map((e) => e.reason),
      ["SuccessfulCreate", "Completed"],
    );
    const eventsRaw = await rawRequest(
      env,
      "GET",
      "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dhello",
    );
    assertSchema("EventList", eventsRaw.json);

    await batch.deleteNamespacedJob({ name: "hello", namespace: "default", propagationPolicy: "Background" });
    await assert.rejects(batch.readNamespacedJob({ name: "hello", namespace: "default" }), (e) => {
      const { code, body } = statusOf(e);
      assert.equal(code, 404);
      assert.deepEqual(body, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'jobs.batch "hello" not found',
        reason: "NotFound",
        details: { name: "hello", group: "batch", kind: "jobs" },
        code: 404,
      });
      return true;
    });
    await eventually(
      async () =>
        (await core.listNamespacedPod({ namespace: "default", labelSelector: "job-name=hello" })).items.length === 0
          ? true
          : undefined,
      "pods of hello to be deleted",
    );
  });

  test("validation: required fields and names → 422 Invalid with causes; unknown fields and wrong types → 400 strict decoding", async () => {
    const noName = jobManifest("bad", { image: "busybox" });
    delete noName.spec.template.spec.containers[0].name;
    noName.metadata.name = "Bad_Name";
    const invalid = await rawRequest(env, "POST", "/apis/batch/v1/namespaces/default/jobs", { body: noName });
    assert.equal(invalid.status, 422);
    assertSchema("Status", invalid.json);
    assert.equal(invalid.json.reason, "Invalid");
    assert.equal(invalid.json.details.kind, "Job");
    assert.equal(invalid.json.details.group, "batch");
    const causes = invalid.json.details.causes.map((c: any) => `${c.reason} ${c.field}`).sort();
    assert.deepEqual(causes, [
      "FieldValueInvalid metadata.name",
      "FieldValueRequired spec.template.spec.containers[0].name",
    ]);
    assert.match(invalid.json.message, /^Job\.batch "Bad_Name" is invalid: \[/);

    const always = await rawRequest(env, "POST", "/apis/batch/v1/namespaces/default/jobs", {
      body: jobManifest("always", {}, {}, { restartPolicy: "Always" }),
    });
    assert.equal(always.status, 422);
    assert.deepEqual(always.json.details.causes, [
      {
        reason: "FieldValueNotSupported",
        message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"',
        field: "spec.template.spec.restartPolicy",
      },
    ]);

    const longName = await rawRequest(env, "POST", "/apis/batch/v1/namespaces/default/jobs", {
      body: jobManifest("j".repeat(64), {}),
    });
    assert.equal(longName.status, 422);
    assert.equal(longName.json.details.causes[0].field, "spec.template.labels");

    const badLabel = jobManifest("badlabel", {});
    badLabel.metadata.labels = { "team/": "x" };
    assert.equal(
      (await rawRequest(env, "POST", "/apis/batch/v1/namespaces/default/jobs", { body: badLabel })).status,
      422,
    );

    const unknown = jobManifest("unknown", {}, { foo: 1 });
    const strict = await rawRequest(env, "POST", "/apis/batch/v1/namespaces/default/jobs", { body: unknown });
    assert.equal(strict.status, 400);
    assert.equal(strict.json.reason, "BadRequest");
    assert.equal(
      strict.json.message,
      'Job in version "batch/v1" cannot be handled as a Job: strict decoding error: unknown field "spec.foo"',
    );

    const wrongType = jobManifest("wrongtype", {}, { backoffLimit: "six" });
    const typed = await rawRequest(env, "POST", "/apis/batch/v1/namespaces/default/jobs", { body: wrongType });
    assert.equal(typed.status, 400);
    assert.match(typed.json.message, /cannot be handled as a Job/);

    await assert.rejects(batch.createNamespacedJob({ namespace: "nowhere", body: jobManifest("x", {}) }), (e) => {
      const { code, body } = statusOf(e);
      assert.equal(code, 404);
      assert.equal(body.message, 'namespaces "nowhere" not found');
      return true;
    });
    const missingImage = await rawRequest(env, "POST", "/api/v1/namespaces/default/pods", {
      body: { apiVersion: "v1", kind: "Pod", metadata: { name: "noimage" }, spec: { containers: [{ name: "c" }] } },
    });
    assert.equal(missingImage.status, 422);
    assert.deepEqual(missingImage.json.details.causes, [
      { reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image" },
    ]);
    assert.equal(
      (await rawRequest(env, "GET", "/apis/batch/v1/namespaces/default/jobs")).json.items.length,
      0,
      "nothing invalid was stored",
    );
  });

  test("auth: 401 Status without or with a wrong token; cluster A's token does not open cluster B; unknown cluster 404", async () => {
    for (const token of [null, "wrong-token"]) {
      const res = await rawRequest(env, "GET", "/api/v1/namespaces", { token });
      assert.equal(res.status, 401);
      assert.deepEqual(res.json, {
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: "Unauthorized",
        reason: "Unauthorized",
        code: 401,
      });
    }
    const other = addTestCluster(env.cloud, "other", [testPool({ name: "pool1" })]);
    const crossed = await rawRequest(env, "GET", "/api/v1/namespaces", {
      clusterKey: other.key,
      token: env.cluster.bearerToken,
    });
    assert.equal(crossed.status, 401);
    const own = await rawRequest(env, "GET", "/api/v1/namespaces", { clusterKey: other.key, token: other.bearerToken });
    assert.equal(own.status, 200);
    const unknown = await rawRequest(env, "GET", "/api/v1/namespaces", { clusterKey: "no-such-cluster" });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.kind, "Status");
    // Objects are per cluster: a job in one cluster is invisible in the other.
    await batch.createNamespacedJob({
      namespace: "default",
      body: jobManifest("isolated", { command: ["sleep", "1"] }),
    });
    const otherJobs = await rawRequest(env, "GET", "/apis/batch/v1/jobs", {
      clusterKey: other.key,
      token: other.bearerToken,
    });
    assert.deepEqual(otherJobs.json.items, []);
    await batch.deleteNamespacedJob({ name: "isolated", namespace: "default", propagationPolicy: "Background" });
  });

  test("unsupported methods answer 405 MethodNotAllowed; unknown paths 404", async () => {
    const put = await rawRequest(env, "PUT", "/api/v1/nodes", { body: {} });
    assert.equal(put.status, 405);
    assert.equal(put.json.reason, "MethodNotAllowed");
    const nope = await rawRequest(env, "GET", "/apis/apps/v1/deployments");
    assert.equal(nope.status, 404);
  });
});
