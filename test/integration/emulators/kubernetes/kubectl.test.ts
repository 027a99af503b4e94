// test: end-to-end (real kubectl processes against the emulator)
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { eventually, startKubernetesTestEnv, type KubernetesTestEnv } from "../../../support/kubernetesTestCluster.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- wire JSON is probed freely in assertions */

/* Real kubectl (Debian package kubernetes-client) against the emulator, through a kubeconfig file only. */

const run = promisify(execFile);

function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/usr/local/bin"])) {
    const candidate = join(dir, "kubectl");
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

const kubectlPath = findKubectl();

/**
 * Client-side validation of `kubectl apply` before 1.27 downloads the
 * protobuf OpenAPI v2 document, which the emulator does not serve (it serves
 * the v3 documents that newer clients use). Such older clients — Debian
 * bookworm's kubernetes-client is 1.20 — apply with `--validate=false`; the
 * emulator still validates strictly on the server side.
 */
async function applyFlags(): Promise<string[]> {
  if (!kubectlPath) return [];
  const { stdout } = await run(kubectlPath, ["version", "--client", "-o", "json"], {
    env: { PATH: process.env.PATH ?? "" },
    timeout: 30_000,
  });
  const minor = Number.parseInt(
    String((JSON.parse(stdout) as { clientVersion?: { minor?: string } }).clientVersion?.minor ?? "0"),
    10,
  );
  return minor > 0 && minor < 27 ? ["--validate=false"] : [];
}

const POD_MANIFEST = `apiVersion: v1
kind: Pod
metadata:
  name: untrusted
spec:
  runtimeClassName: kata-mshv-vm-isolation
  containers:
  - name: untrusted
    image: mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11
    command: ["/bin/sh", "-ec", "while :; do echo '.'; sleep 5 ; done"]
`;

describe("kubectl against the Kubernetes emulator", () => {
  let env: KubernetesTestEnv;

  before(async () => {
    if (!kubectlPath) return;
    env = await startKubernetesTestEnv({ scale: 0.005 });
  });
  after(async () => env?.close());

  async function kubectl(...args: string[]): Promise<string> {
    const extra = args[0] === "apply" ? await applyFlags() : [];
    const { stdout } = await run(
      kubectlPath ?? "kubectl",
      ["--kubeconfig", env.kubeconfigPath, "--request-timeout=20s", ...args, ...extra],
      {
        // An inherited KUBECONFIG or proxy must not redirect kubectl elsewhere.
        env: { PATH: process.env.PATH ?? "", HOME: env.dir },
        timeout: 60_000,
      },
    );
    return stdout;
  }

  test("get nodes, get runtimeclass, apply a sandboxed Pod, get pods, logs, delete pod", async (t) => {
    if (!kubectlPath) {
      t.skip(
        "kubectl not installed (install the Debian package kubernetes-client); skipping the kubectl acceptance test",
      );
      return;
    }
    const nodes = await kubectl("get", "nodes", "-o", "wide");
    assert.match(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION\s+INTERNAL-IP/m);
    assert.match(
      nodes,
      /aks-sandbox-\d{8}-vmss000000\s+Ready\s+<none>\s+\S+\s+v1\.30\.6\s+10\.224\.0\.\d+\s+<none>\s+CBL-Mariner\/Linux\s+5\.15\.80\.mshv2-hvl1\.m2/,
    );

    const rc = await kubectl("get", "runtimeclass");
    assert.match(rc, /^NAME\s+HANDLER\s+AGE/m);
    assert.match(rc, /^kata-mshv-vm-isolation\s+kata-mshv-vm-isolation\s+/m);

    const manifest = join(env.dir, "pod.yaml");
    await writeFile(manifest, POD_MANIFEST);
    assert.match(await kubectl("apply", "-f", manifest), /pod\/untrusted created/);

    await eventually(
      async () => (/untrusted\s+1\/1\s+Running\s+0/.test(await kubectl("get", "pods")) ? true : undefined),
      "kubectl get pods to show Running",
      20_000,
    );
    const json = JSON.parse(await kubectl("get", "pod", "untrusted", "-o", "json"));
    assert.equal(json.spec.runtimeClassName, "kata-mshv-vm-isolation");
    assert.ok(
      json.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"],
      "client-side apply annotation stored",
    );

    const logs = await eventually(
      async () => {
        const out = await kubectl("logs", "untrusted", "--tail=2");
        return out === ".\n.\n" ? out : undefined;
      },
      "two dots in the log",
      20_000,
    );
    assert.equal(logs, ".\n.\n");

    assert.match(await kubectl("delete", "pod", "untrusted"), /pod "untrusted" deleted/);
    const after = await kubectl("get", "pods", "--ignore-not-found");
    assert.doesNotMatch(after, /untrusted/);
  });

  test("kubectl shows the API's errors: a missing RuntimeClass is forbidden, an unknown field is a strict decoding error", async (t) => {
    if (!kubectlPath) {
      t.skip("kubectl not installed (install the Debian package kubernetes-client)");
      return;
    }
    const manifest = join(env.dir, "typo.yaml");
    await writeFile(
      manifest,
      POD_MANIFEST.replace("name: untrusted\nspec", "name: typo\nspec").replace(
        "runtimeClassName: kata-mshv-vm-isolation",
        "runtimeClassName: kata-mhsv-vm-isolation",
      ),
    );
    await assert.rejects(kubectl("apply", "-f", manifest), (e: any) => {
      assert.match(e.stderr, /pods "typo" is forbidden: pod rejected: RuntimeClass "kata-mhsv-vm-isolation" not found/);
      return true;
    });
    const unknown = join(env.dir, "unknown.yaml");
    await writeFile(
      unknown,
      POD_MANIFEST.replace("name: untrusted\nspec", "name: strict\nspec").replace(
        "  containers:",
        "  foo: bar\n  containers:",
      ),
    );
    await assert.rejects(kubectl("apply", "-f", unknown), (e: any) => {
      assert.match(e.stderr, /unknown field "spec\.foo"/);
      return true;
    });
  });

  test("kubectl apply of an existing object patches it (unchanged → no-op), server-side apply, namespace labels", async (t) => {
    if (!kubectlPath) {
      t.skip("kubectl not installed (install the Debian package kubernetes-client)");
      return;
    }
    const policy = (egressPort: number) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all-but-dns
  namespace: default
spec:
  podSelector: {}
  policyTypes: ["Ingress", "Egress"]
  egress:
  - ports:
    - protocol: UDP
      port: ${egressPort}
`;
    const manifest = join(env.dir, "netpol.yaml");
    await writeFile(manifest, policy(53));
    assert.match(
      await kubectl("apply", "-f", manifest),
      /networkpolicy\.networking\.k8s\.io\/deny-all-but-dns created/,
    );
    assert.match(
      await kubectl("apply", "-f", manifest),
      /networkpolicy\.networking\.k8s\.io\/deny-all-but-dns unchanged/,
    );
    await writeFile(manifest, policy(5353));
    assert.match(
      await kubectl("apply", "-f", manifest),
      /networkpolicy\.networking\.k8s\.io\/deny-all-but-dns configured/,
    );
    const json = JSON.parse(await kubectl("get", "networkpolicy", "deny-all-but-dns", "-o", "json"));
    assert.equal(json.spec.egress[0].ports[0].port, 5353);
    assert.match(await kubectl("apply", "--server-side", "--field-manager=test", "-f", manifest), /serverside-applied/);
    assert.match(
      await kubectl("label", "namespace", "default", "pod-security.kubernetes.io/enforce=restricted"),
      /namespace\/default labeled/,
    );
    const ns = JSON.parse(await kubectl("get", "namespace", "default", "-o", "json"));
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    assert.match(await kubectl("delete", "networkpolicy", "deny-all-but-dns"), /deleted/);
  });
});
