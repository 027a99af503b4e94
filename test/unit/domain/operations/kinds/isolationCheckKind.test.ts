import { test } from "node:test";
import assert from "node:assert/strict";
import {
  isolationVerdict,
  parseProbeLog,
  probeJobName,
  sandboxedProbeScript,
  type ProbeFinding,
} from "../../../../../src/domain/operations/kinds/isolationCheckKind.js";
import { isDns1123Label } from "../../../../../src/domain/jobs/jobSubmission.js";

const RC = "kata-mshv-vm-isolation";
const sandboxed: ProbeFinding = {
  kernel: "5.15.48.1-8.cm2",
  runtimeClassName: RC,
  node: "aks-kata-1",
  sandboxNode: true,
};
const trusted: ProbeFinding = {
  kernel: "5.15.80.mshv2-hvl1.m2",
  runtimeClassName: undefined,
  node: "aks-kata-1",
  sandboxNode: true,
};

test("isolated only when the kernels differ and the sandboxed pod ran with the class on a sandbox node", () => {
  const ok = isolationVerdict(sandboxed, trusted, RC, "2026-01-01T00:00:00.000Z");
  const { probes, ...rest } = ok;
  assert.deepEqual(rest, {
    isolated: true,
    verdict: "ISOLATED",
    sandboxKernel: sandboxed.kernel,
    nodeKernel: trusted.kernel,
    runtimeClassName: RC,
    node: "aks-kata-1",
    checkedAt: "2026-01-01T00:00:00.000Z",
  });
  assert.deepEqual(
    probes.map((p) => [p.name, p.passed]),
    [["kernel", true]],
  );
  const same = isolationVerdict({ ...sandboxed, kernel: trusted.kernel }, trusted, RC, "t");
  assert.equal(same.isolated, false);
  assert.match(same.reason ?? "", /shares the node's kernel/);
  const wrongClass = isolationVerdict({ ...sandboxed, runtimeClassName: "kata-mhsv-vm-isolation" }, trusted, RC, "t");
  assert.equal(wrongClass.isolated, false);
  assert.match(wrongClass.reason ?? "", /kata-mhsv-vm-isolation/);
  const wrongNode = isolationVerdict({ ...sandboxed, sandboxNode: false }, trusted, RC, "t");
  assert.equal(wrongNode.isolated, false);
  assert.equal(isolationVerdict({ ...sandboxed, kernel: "" }, trusted, RC, "t").isolated, false);
});

test("probe job names are DNS-1123 labels", () => {
  for (const which of ["sandboxed", "trusted"] as const)
    assert.ok(isDns1123Label(probeJobName("isolation-probe-0123456789", which)));
});

const CONTAINED_LOG = [
  "5.15.48.1-8.cm2",
  "#probe imds",
  "curl: (28) Failed to connect to 169.254.169.254 port 80 after 5000 ms: Timeout was reached",
  "#probe wireserver",
  "curl: (28) Failed to connect to 168.63.129.16 port 80 after 5000 ms: Timeout was reached",
  "#probe apiServer",
  "curl: (28) Failed to connect to kubernetes.default.svc port 443 after 5000 ms: Timeout was reached",
  "#probe otherNamespacePod",
  "curl: (28) Failed to connect to 10.244.3.4 port 8080 after 5000 ms: Timeout was reached",
  "#probe internet",
  "curl: (6) Could not resolve host: example.com",
  "#probe serviceAccountToken",
  "ls: /var/run/secrets/kubernetes.io/serviceaccount: No such file or directory",
  "#end",
].join("\n");

test("network and credential probes: every probe with its verdict and evidence; ISOLATED only if all pass", () => {
  assert.match(sandboxedProbeScript("10.244.3.4"), /curl -sS -m 5 http:\/\/10\.244\.3\.4:8080\//);
  const parsed = parseProbeLog(CONTAINED_LOG);
  assert.equal(parsed.kernel, "5.15.48.1-8.cm2");
  const contained = isolationVerdict({ ...sandboxed, sections: parsed.sections }, trusted, RC, "t", {
    podSecurity: "restricted",
    namespace: "sandbox-alpha",
  });
  assert.equal(contained.verdict, "ISOLATED");
  assert.deepEqual(
    contained.probes.map((p) => p.name),
    [
      "kernel",
      "imds",
      "wireserver",
      "apiServer",
      "otherNamespacePod",
      "internet",
      "serviceAccountToken",
      "podSecurity",
    ],
  );
  assert.ok(contained.probes.every((p) => p.passed && p.evidence.length > 0));

  const open = parseProbeLog(
    CONTAINED_LOG.replace(/curl: \(28\) Failed to connect to 169[^\n]*/, '{"compute":{"location":"eastus"}}').replace(
      /curl: \(6\)[^\n]*/,
      "<title>Example Domain</title>",
    ),
  );
  const leaky = isolationVerdict({ ...sandboxed, sections: open.sections }, trusted, RC, "t", {
    podSecurity: "baseline",
    namespace: "ns",
  });
  assert.equal(leaky.verdict, "NOT_ISOLATED");
  assert.deepEqual(
    leaky.probes.filter((p) => !p.passed).map((p) => p.name),
    ["imds", "internet", "podSecurity"],
  );
  assert.match(
    leaky.reason ?? "",
    /^imds: reachable \(expected Instance Metadata Service 169\.254\.169\.254 unreachable\)/,
  );
  // Opened to the internet by the team's policy: the internet probe expects it reachable.
  const allowed = isolationVerdict({ ...sandboxed, sections: open.sections }, trusted, RC, "t", {
    internetAllowed: true,
    podSecurity: "restricted",
    namespace: "ns",
  });
  assert.equal(allowed.probes.find((p) => p.name === "internet")?.passed, true);
  // A refused connection reached its target: not blocked.
  const refused = parseProbeLog(
    CONTAINED_LOG.replace(
      /curl: \(28\) Failed to connect to 10\.244[^\n]*/,
      "curl: (7) Failed to connect to 10.244.3.4 port 8080 after 0 ms: Couldn't connect to server",
    ),
  );
  assert.equal(
    isolationVerdict({ ...sandboxed, sections: refused.sections }, trusted, RC, "t").probes.find(
      (p) => p.name === "otherNamespacePod",
    )?.passed,
    false,
  );
});
