import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  eventually,
  rawRequest,
  startKubernetesTestEnv,
  type KubernetesTestEnv,
} from "../../../support/kubernetesTestCluster.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is probed freely in assertions */

/*
 * The Kubernetes emulator's containment surfaces over the wire: NetworkPolicy,
 * ResourceQuota, LimitRange and ServiceAccount (official schemas, PATCH
 * flavours, no-op re-apply), Pod Security Admission, quota admission
 * (FailedCreate), network reachability of simulated wget/curl following the
 * engine and the policies, and ephemeral-storage eviction.
 */

const RESTRICTED_CONTEXT = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  runAsNonRoot: true,
  runAsUser: 65532,
  seccompProfile: { type: "RuntimeDefault" },
};

function pod(name: string, command: string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: { app: name } },
    spec: {
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      containers: [{ name: "main", image: "busybox:1.36", command, securityContext: RESTRICTED_CONTEXT, ...extra }],
    },
  };
}

const DENY_ALL = {
  apiVersion: "networking.k8s.io/v1",
  kind: "NetworkPolicy",
  metadata: { name: "deny-all" },
  spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
};

describe("Kubernetes emulator: containment surfaces", () => {
  let env: KubernetesTestEnv;

  before(async () => {
    env = await startKubernetesTestEnv({ scale: 0.002 });
    env.cloud.upsertCluster({ ...env.cluster, networkPolicy: "cilium" });
    for (const ns of ["np", "team-a", "team-b", "psa", "quota", "disk"]) {
      const created = await rawRequest(env, "POST", "/api/v1/namespaces", { body: { metadata: { name: ns } } });
      assert.equal(created.status, 201);
    }
  });
  after(async () => env?.close());

  async function logOf(namespace: string, name: string): Promise<string> {
    await eventually(
      async () => {
        const p = await rawRequest(env, "GET", `/api/v1/namespaces/${namespace}/pods/${name}`);
        return p.json?.status?.phase === "Succeeded" || p.json?.status?.phase === "Failed" ? true : undefined;
      },
      `pod ${name} to finish`,
      20_000,
    );
    return (await rawRequest(env, "GET", `/api/v1/namespaces/${namespace}/pods/${name}/log`)).text;
  }

  test("NetworkPolicy: official schema, defaulting, PATCH flavours, server-side apply, no-op re-apply, discovery and /openapi/v3", async () => {
    const base = "/apis/networking.k8s.io/v1/namespaces/np/networkpolicies";
    const created = await rawRequest(env, "POST", base, {
      body: { ...DENY_ALL, metadata: { name: "np1" }, spec: { podSelector: {}, egress: [{ ports: [{ port: 53 }] }] } },
    });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(created.json.spec.policyTypes, ["Ingress", "Egress"]);
    assert.equal(created.json.spec.egress[0].ports[0].protocol, "TCP");

    const unknown = await rawRequest(env, "POST", base, {
      body: { ...DENY_ALL, metadata: { name: "np2" }, spec: { podSelector: {}, bogus: 1 } },
    });
    assert.equal(unknown.status, 400);
    assert.match(unknown.json.message, /strict decoding error: unknown field "spec\.bogus"/);
    const badCidr = await rawRequest(env, "POST", base, {
      body: {
        ...DENY_ALL,
        metadata: { name: "np3" },
        spec: { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/33", except: ["11.0.0.0/8"] } }] }] },
      },
    });
    assert.equal(badCidr.status, 422);
    assert.equal(badCidr.json.reason, "Invalid");
    assert.match(
      badCidr.json.message,
      /NetworkPolicy\.networking\.k8s\.io "np3" is invalid: .*spec\.egress\[0\]\.to\[0\]\.ipBlock\.cidr: Invalid value: "10\.0\.0\.0\/33"/,
    );

    const rv = created.json.metadata.resourceVersion;
    const same = await rawRequest(env, "PUT", `${base}/np1`, { body: created.json });
    assert.equal(same.status, 200);
    assert.equal(same.json.metadata.resourceVersion, rv, "a PUT that changes nothing keeps the resourceVersion");

    const merged = await rawRequest(env, "PATCH", `${base}/np1`, {
      body: { metadata: { labels: { tier: "x" } } },
      headers: { "Content-Type": "application/merge-patch+json" },
    });
    assert.equal(merged.status, 200, merged.text);
    assert.equal(merged.json.metadata.labels.tier, "x");
    assert.notEqual(merged.json.metadata.resourceVersion, rv);
    const strategic = await rawRequest(env, "PATCH", `${base}/np1`, {
      body: { metadata: { labels: { tier: null } }, spec: { egress: [{ ports: [{ port: 53, protocol: "UDP" }] }] } },
      headers: { "Content-Type": "application/strategic-merge-patch+json" },
    });
    assert.equal(strategic.status, 200, strategic.text);
    assert.equal(strategic.json.metadata.labels, undefined);
    assert.equal(strategic.json.spec.egress[0].ports[0].protocol, "UDP");
    assert.equal(strategic.json.metadata.generation, 2);

    const applied = await rawRequest(env, "PATCH", `${base}/np-apply?fieldManager=test`, {
      body: { ...DENY_ALL, metadata: { name: "np-apply" } },
      headers: { "Content-Type": "application/apply-patch+yaml" },
    });
    assert.equal(applied.status, 201, applied.text);
    const reapplied = await rawRequest(env, "PATCH", `${base}/np-apply?fieldManager=test`, {
      body: { ...DENY_ALL, metadata: { name: "np-apply" } },
      headers: { "Content-Type": "application/apply-patch+yaml" },
    });
    assert.equal(reapplied.status, 200);
    assert.equal(reapplied.json.metadata.resourceVersion, applied.json.metadata.resourceVersion, "re-apply is a no-op");
    const badType = await rawRequest(env, "PATCH", `${base}/np1`, {
      body: {},
      headers: { "Content-Type": "text/plain" },
    });
    assert.equal(badType.status, 415);
    assert.equal((await rawRequest(env, "DELETE", `${base}/np-apply`)).status, 200);
    assert.equal((await rawRequest(env, "GET", `${base}/np-apply`)).status, 404);
    assert.equal((await rawRequest(env, "DELETE", `${base}/np1`)).status, 200);

    const groups = await rawRequest(env, "GET", "/apis");
    assert.ok(groups.json.groups.some((g: any) => g.name === "networking.k8s.io"));
    const core = await rawRequest(env, "GET", "/api/v1");
    for (const r of ["resourcequotas", "limitranges", "serviceaccounts"])
      assert.ok(
        core.json.resources.some((x: any) => x.name === r),
        r,
      );
    const openapi = await rawRequest(env, "GET", "/openapi/v3");
    assert.ok(openapi.json.paths["apis/networking.k8s.io/v1"]);
  });

  test("ResourceQuota, LimitRange, ServiceAccount validate against the core v1 schema; quota status shows usage", async () => {
    const bad = await rawRequest(env, "POST", "/api/v1/namespaces/quota/resourcequotas", {
      body: { metadata: { name: "q" }, spec: { hard: { pods: "two" } } },
    });
    assert.equal(bad.status, 422);
    assert.match(bad.json.message, /spec\.hard\[pods\]: Invalid value: "two"/);
    const badLr = await rawRequest(env, "POST", "/api/v1/namespaces/quota/limitranges", {
      body: { metadata: { name: "l" }, spec: { limits: [{ type: "Node" }] } },
    });
    assert.equal(badLr.status, 422);
    const sa = await rawRequest(env, "POST", "/api/v1/namespaces/quota/serviceaccounts", {
      body: { metadata: { name: "runner" }, automountServiceAccountToken: false },
    });
    assert.equal(sa.status, 201, sa.text);
    const defaultSa = await rawRequest(env, "GET", "/api/v1/namespaces/quota/serviceaccounts/default");
    assert.equal(defaultSa.status, 200, "the ServiceAccount controller's default account exists");
    const quota = await rawRequest(env, "POST", "/api/v1/namespaces/quota/resourcequotas", {
      body: {
        metadata: { name: "sandbox-quota" },
        spec: { hard: { pods: "1", "limits.cpu": "2", "limits.memory": "2Gi" } },
      },
    });
    assert.equal(quota.status, 201, quota.text);
    const lr = await rawRequest(env, "POST", "/api/v1/namespaces/quota/limitranges", {
      body: {
        metadata: { name: "defaults" },
        spec: { limits: [{ type: "Container", default: { cpu: "1", memory: "1Gi" }, max: { cpu: "2" } }] },
      },
    });
    assert.equal(lr.status, 201, lr.text);

    const first = await rawRequest(env, "POST", "/api/v1/namespaces/quota/pods", {
      body: pod("sleeper", ["sleep", "3600"]),
    });
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.spec.containers[0].resources.limits.cpu, "1", "LimitRange default applied");
    const status = await rawRequest(env, "GET", "/api/v1/namespaces/quota/resourcequotas/sandbox-quota");
    assert.deepEqual(status.json.status.used, { pods: "1", "limits.cpu": "1", "limits.memory": "1Gi" });

    const tooBig = await rawRequest(env, "POST", "/api/v1/namespaces/quota/pods", {
      body: pod("big", ["true"], { resources: { limits: { cpu: "4" } } }),
    });
    assert.equal(tooBig.status, 403);
    assert.equal(tooBig.json.message, 'pods "big" is forbidden: maximum cpu usage per Container is 2, but limit is 4');

    const job = await rawRequest(env, "POST", "/apis/batch/v1/namespaces/quota/jobs", {
      body: {
        metadata: { name: "over" },
        spec: { backoffLimit: 0, template: { spec: (pod("x", ["true"]) as any).spec } },
      },
    });
    assert.equal(job.status, 201, job.text);
    const event = await eventually(async () => {
      const events = await rawRequest(env, "GET", "/api/v1/namespaces/quota/events");
      return events.json.items.find((e: any) => e.reason === "FailedCreate" && e.involvedObject.name === "over");
    }, "a FailedCreate event");
    assert.equal(event.type, "Warning");
    assert.match(
      event.message,
      /^Error creating: pods "over-" is forbidden: exceeded quota: sandbox-quota, requested: pods=1, used: pods=1, limited: pods=1$/,
    );
    await rawRequest(env, "DELETE", "/api/v1/namespaces/quota/pods/sleeper");
  });

  test("Pod Security Admission: a restricted namespace refuses what restricted refuses, with the API server's message", async () => {
    const labelled = await rawRequest(env, "PATCH", "/api/v1/namespaces/psa", {
      body: { metadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted" } } },
      headers: { "Content-Type": "application/strategic-merge-patch+json" },
    });
    assert.equal(labelled.status, 200, labelled.text);
    assert.equal(labelled.json.metadata.labels["kubernetes.io/metadata.name"], "psa");
    const body = pod("root", ["id"]);
    (body as any).spec.containers[0].securityContext = { privileged: true, runAsUser: 0 };
    const refused = await rawRequest(env, "POST", "/api/v1/namespaces/psa/pods", { body });
    assert.equal(refused.status, 403);
    assert.equal(refused.json.reason, "Forbidden");
    assert.equal(
      refused.json.message,
      'pods "root" is forbidden: violates PodSecurity "restricted:latest": privileged (container "main" must not set securityContext.privileged=true), ' +
        'allowPrivilegeEscalation != false (container "main" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "main" must set securityContext.capabilities.drop=["ALL"]), ' +
        'runAsNonRoot != true (pod or container "main" must set securityContext.runAsNonRoot=true), ' +
        'runAsUser=0 (container "main" must not set runAsUser=0), ' +
        'seccompProfile (pod or container "main" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    const ok = await rawRequest(env, "POST", "/api/v1/namespaces/psa/pods", { body: pod("fine", ["true"]) });
    assert.equal(ok.status, 201, ok.text);
  });

  test("network reachability follows the engine and the NetworkPolicies; wget/curl print the tools' texts", async () => {
    const open = await rawRequest(env, "POST", "/api/v1/namespaces/team-a/pods", {
      body: pod("open", [
        "sh",
        "-c",
        "wget -qO- -T 2 http://169.254.169.254/metadata/instance; curl -sS -m 2 http://example.com/",
      ]),
    });
    assert.equal(open.status, 201, open.text);
    const openLog = await logOf("team-a", "open");
    assert.match(openLog, /"compute":\{/);
    assert.match(openLog, /Example Domain/);

    assert.equal(
      (
        await rawRequest(env, "POST", "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies", {
          body: DENY_ALL,
        })
      ).status,
      201,
    );
    const target = await rawRequest(env, "POST", "/api/v1/namespaces/team-b/pods", {
      body: pod("target", ["sleep", "3600"]),
    });
    assert.equal(target.status, 201);
    const ip = await eventually(
      async () => (await rawRequest(env, "GET", "/api/v1/namespaces/team-b/pods/target")).json?.status?.podIP,
      "target pod IP",
    );
    const script = [
      "wget -qO- -T 2 http://169.254.169.254/metadata/instance",
      "wget -q -O- http://168.63.129.16/?comp=versions",
      "curl -sS --connect-timeout 3 -k https://kubernetes.default.svc/version",
      `wget -qO- -T 2 http://${ip}:8080/`,
      "curl -sS -m 2 http://example.com/",
      "cat /var/run/secrets/kubernetes.io/serviceaccount/token",
    ].join("; ");
    assert.equal(
      (await rawRequest(env, "POST", "/api/v1/namespaces/team-a/pods", { body: pod("closed", ["sh", "-c", script]) }))
        .status,
      201,
    );
    const closedLog = await logOf("team-a", "closed");
    assert.deepEqual(closedLog.trim().split("\n"), [
      "wget: download timed out",
      "wget: can't connect to remote host (168.63.129.16): Connection timed out",
      "curl: (28) Failed to connect to kubernetes.default.svc port 443 after 3000 ms: Timeout was reached",
      "wget: download timed out",
      "curl: (6) Could not resolve host: example.com",
      "cat: can't open '/var/run/secrets/kubernetes.io/serviceaccount/token': No such file or directory",
    ]);

    // From team-b (no policy) to team-b's own pod: reachable, nothing listens (refused, not a timeout).
    assert.equal(
      (
        await rawRequest(env, "POST", "/api/v1/namespaces/team-b/pods", {
          body: pod("peer", ["sh", "-c", `wget -T 2 http://${ip}:8080/`]),
        })
      ).status,
      201,
    );
    assert.match(
      await logOf("team-b", "peer"),
      new RegExp(`can't connect to remote host \\(${ip.replace(/\./g, "\\.")}\\): Connection refused`),
    );

    // No engine: the same policy is not enforced.
    env.cloud.upsertCluster({ ...env.cluster, networkPolicy: "none" });
    try {
      assert.equal(
        (
          await rawRequest(env, "POST", "/api/v1/namespaces/team-a/pods", {
            body: pod("unenforced", ["wget", "-qO-", "-T", "2", "http://168.63.129.16/"]),
          })
        ).status,
        201,
      );
      assert.match(await logOf("team-a", "unenforced"), /<Versions>/);
    } finally {
      env.cloud.upsertCluster({ ...env.cluster, networkPolicy: "cilium" });
    }
  });

  test("a pod that writes past its ephemeral-storage limit is evicted", async () => {
    const body = pod("filler", ["dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=2048"], {
      resources: { limits: { "ephemeral-storage": "1Gi" } },
    });
    assert.equal((await rawRequest(env, "POST", "/api/v1/namespaces/disk/pods", { body })).status, 201);
    const evicted = await eventually(
      async () => {
        const p = await rawRequest(env, "GET", "/api/v1/namespaces/disk/pods/filler");
        return p.json?.status?.phase === "Failed" ? p.json : undefined;
      },
      "the eviction",
      20_000,
    );
    assert.equal(evicted.status.reason, "Evicted");
    assert.equal(
      evicted.status.message,
      "Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ",
    );
    const events = await rawRequest(env, "GET", "/api/v1/namespaces/disk/events");
    assert.ok(events.json.items.some((e: any) => e.reason === "Evicted" && e.involvedObject.name === "filler"));
  });
});
