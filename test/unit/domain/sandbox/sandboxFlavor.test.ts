import { test } from "node:test";
import assert from "node:assert/strict";
import { sandboxFlavor } from "../../../../src/domain/sandbox/sandboxFlavor.js";

test("preview and GA flavours name their runtime, class, api-version and feature", () => {
  assert.deepEqual(
    { ...sandboxFlavor("preview"), feature: { ...sandboxFlavor("preview").feature } },
    {
      flavor: "preview",
      workloadRuntime: "KataMshvVmIsolation",
      runtimeClassName: "kata-mshv-vm-isolation",
      containerServiceApiVersion: "2026-10-02-preview",
      feature: { namespace: "Microsoft.ContainerService", name: "KataVMIsolationPreview" },
      osSku: "AzureLinux",
    },
  );
  assert.deepEqual(sandboxFlavor("ga"), {
    flavor: "ga",
    workloadRuntime: "KataVmIsolation",
    runtimeClassName: "kata-vm-isolation",
    containerServiceApiVersion: "2026-10-01",
    feature: undefined,
    osSku: "AzureLinux",
  });
});
