import { test } from "node:test";
import assert from "node:assert/strict";
import { isolationVerdict, probeJobName, type ProbeFinding } from "../../../../../src/domain/operations/kinds/isolationCheckKind.js";
import { isDns1123Label } from "../../../../../src/domain/jobs/jobSubmission.js";

const RC = "kata-mshv-vm-isolation";
const sandboxed: ProbeFinding = { kernel: "5.15.48.1-8.cm2", runtimeClassName: RC, node: "aks-kata-1", sandboxNode: true };
const trusted: ProbeFinding = { kernel: "5.15.80.mshv2-hvl1.m2", runtimeClassName: undefined, node: "aks-kata-1", sandboxNode: true };

test("isolated only when the kernels differ and the sandboxed pod ran with the class on a sandbox node", () => {
  const ok = isolationVerdict(sandboxed, trusted, RC, "2026-01-01T00:00:00.000Z");
  assert.deepEqual(ok, { isolated: true, sandboxKernel: sandboxed.kernel, nodeKernel: trusted.kernel, runtimeClassName: RC, node: "aks-kata-1", checkedAt: "2026-01-01T00:00:00.000Z" });
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
  for (const which of ["sandboxed", "trusted"] as const) assert.ok(isDns1123Label(probeJobName("isolation-probe-0123456789", which)));
});
