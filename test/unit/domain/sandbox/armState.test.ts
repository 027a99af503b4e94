import { test } from "node:test";
import assert from "node:assert/strict";
import { canonicalArmState } from "../../../../src/domain/sandbox/armState.js";
import { clusterView, managedClusterStateOf, sandboxPoolsOf } from "../../../../src/domain/sandbox/clusterView.js";
import { sandboxFlavor } from "../../../../src/domain/sandbox/sandboxFlavor.js";

test("ARM state strings are compared case-insensitively (canonical spelling)", () => {
  assert.equal(canonicalArmState("registered"), "Registered");
  assert.equal(canonicalArmState("SUCCEEDED"), "Succeeded");
  assert.equal(canonicalArmState("katamshvvmisolation"), "KataMshvVmIsolation");
  assert.equal(canonicalArmState("SomethingNew"), "SomethingNew");
  const flavor = sandboxFlavor("preview");
  const state = managedClusterStateOf(
    {
      id: "/x",
      name: "c1",
      location: "eastus",
      provisioningState: "succeeded",
      agentPoolProfiles: [
        {
          name: "kata",
          count: 1,
          provisioningState: "SUCCEEDED",
          workloadRuntime: "katamshvvmisolation",
          osSKU: "azurelinux",
          mode: "user",
        },
      ],
    },
    "c1",
  );
  assert.equal(state.provisioningState, "Succeeded");
  assert.equal(sandboxPoolsOf(state, flavor).length, 1);
  const view = clusterView(
    { subscriptionId: "s", resourceGroup: "rg", clusterName: "c1" },
    state,
    flavor,
    true,
    () => undefined,
  );
  assert.equal(view.sandbox.ready, true);
});
