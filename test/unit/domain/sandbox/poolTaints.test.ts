import { test } from "node:test";
import assert from "node:assert/strict";
import { checkSandboxPoolTaints } from "../../../../src/domain/sandbox/poolTaints.js";
import { isSandboxError } from "../../../../src/domain/sandboxError.js";

test("sandbox pools accept PreferNoSchedule taints only; NoSchedule/NoExecute and malformed taints are a 400 naming the taint", () => {
  checkSandboxPoolTaints(undefined);
  checkSandboxPoolTaints(["sandbox=true:PreferNoSchedule", "dedicated:PreferNoSchedule"]);
  const refused = (taints: string[], pattern: RegExp, target: string): void =>
    assert.throws(
      () => checkSandboxPoolTaints(taints),
      (e: unknown) =>
        isSandboxError(e) && e.code === "InvalidRequest" && pattern.test(e.message) && e.target === target,
    );
  refused(["ok:PreferNoSchedule", "sandbox=true:NoSchedule"], /only PreferNoSchedule.*no tolerations/, "taints[1]");
  refused(["sandbox=true:NoExecute"], /NoExecute/, "taints[0]");
  refused(["sandbox=true"], /not a taint/, "taints[0]");
  refused(["-bad=x:PreferNoSchedule"], /not a taint/, "taints[0]");
});
