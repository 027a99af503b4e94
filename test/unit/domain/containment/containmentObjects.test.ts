import { test } from "node:test";
import assert from "node:assert/strict";
import {
  KubernetesSchemaValidator,
  type KubernetesSchemaKind,
} from "../../../../src/emulators/kubernetes/kubernetesSchemaValidator.js";
import {
  containmentNetworkPolicies,
  containmentObjects,
  containmentQuota,
  enforcedPodSecurity,
} from "../../../../src/domain/containment/containmentObjects.js";
import { buildPolicy, type TeamPolicy } from "../../../../src/domain/policy/policy.js";
import { fixturePolicy } from "../../../support/policyFixtures.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- object JSON is inspected freely */

const beta = fixturePolicy().teams.get("beta")!;
const alpha = fixturePolicy().teams.get("alpha")!;
const withEgress = (egress: Partial<TeamPolicy["egress"]>): TeamPolicy => ({
  ...beta,
  egress: { ...beta.egress, ...egress },
});

test("every object the product creates validates against the official networking.k8s.io/v1 and core v1 schemas", () => {
  const schemas = new KubernetesSchemaValidator();
  const team = withEgress({ internet: true, cidrs: ["10.0.0.0/8", "52.1.2.0/24"], ports: [443] });
  const objects = containmentObjects("beta-jobs", team);
  assert.deepEqual(
    objects.map((o) => o.kind),
    ["Namespace", "ServiceAccount", "LimitRange", "ResourceQuota", "NetworkPolicy", "NetworkPolicy", "NetworkPolicy"],
  );
  for (const object of objects)
    assert.deepEqual(
      schemas.validate(object.kind as KubernetesSchemaKind, object),
      [],
      `${String(object.kind)} ${object.metadata?.name ?? ""}`,
    );
});

test("defaults closed: deny-all plus DNS to CoreDNS only; the namespace enforces restricted (baseline when root is allowed)", () => {
  const policies = containmentNetworkPolicies("beta-jobs", beta);
  assert.deepEqual(
    policies.map((p) => p.metadata?.name),
    ["sandbox-default-deny", "sandbox-allow-dns"],
  );
  assert.deepEqual((policies[0] as any).spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
  const dns = (policies[1] as any).spec.egress[0];
  assert.deepEqual(dns.to[0].podSelector.matchLabels, { "k8s-app": "kube-dns" });
  assert.deepEqual(
    dns.ports.map((p: any) => `${p.protocol}/${p.port}`),
    ["UDP/53", "TCP/53"],
  );
  assert.equal(enforcedPodSecurity(beta), "restricted");
  assert.equal(enforcedPodSecurity(alpha), "baseline");
});

test("egress: internet excludes private, link-local and wireserver; CIDRs never include the cluster's ranges or the always-denied ones", () => {
  const internet = (containmentNetworkPolicies("ns", withEgress({ internet: true }))[2] as any).spec.egress[0];
  assert.deepEqual(internet.to[0].ipBlock, {
    cidr: "0.0.0.0/0",
    except: ["169.254.0.0/16", "168.63.129.16/32", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"],
  });
  assert.equal(internet.ports, undefined, "no ports listed: any port");
  const corp = (
    containmentNetworkPolicies(
      "ns",
      withEgress({ cidrs: ["10.0.0.0/8", "10.244.1.0/24"], ports: [443, 8443] }),
    )[2] as any
  ).spec.egress[0];
  assert.deepEqual(
    corp.to,
    [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.244.0.0/16", "10.0.0.0/16"] } }],
    "a CIDR inside the pod range is dropped",
  );
  assert.deepEqual(corp.ports, [
    { protocol: "TCP", port: 443 },
    { protocol: "TCP", port: 8443 },
  ]);
});

test("the policy file refuses an egress CIDR inside an always-denied range", () => {
  const { problems } = buildPolicy({
    version: 1,
    teams: { gamma: { egress: { cidrs: ["169.254.169.254/32", "168.63.129.16/32", "20.0.0.0/8"] } } },
  });
  assert.equal(problems.length, 2);
  assert.match(
    problems[0] ?? "",
    /\/teams\/gamma\/egress\/cidrs: "169\.254\.169\.254\/32" lies in 169\.254\.0\.0\/16, which is always denied/,
  );
});

test("the quota sums the largest allowed jobs with each sandbox VM's fixed overhead (1 vCPU, 2 GiB), probe pods included", () => {
  // beta: 3 jobs (+2 probe pods) of at most 1 vCPU / 1024 MiB, 1 GiB ephemeral storage.
  assert.deepEqual((containmentQuota("beta-jobs", beta) as any).spec.hard, {
    pods: "5",
    "limits.cpu": "10",
    "limits.memory": "15Gi",
    "limits.ephemeral-storage": "5Gi",
  });
});
