import { test } from "node:test";
import assert from "node:assert/strict";
import { vmSkuInfoOf } from "../../../../src/adapters/arm/computeSkus.js";
import { findVmSku, toResourceSku } from "../../../../src/emulators/arm/vmSkuCatalogue.js";

test("a Compute resource SKU maps to vCPUs, memory, generations, architecture", () => {
  const arm = vmSkuInfoOf(toResourceSku(findVmSku("Standard_D4ps_v5")!, ["eastus"]), "eastus");
  assert.deepEqual(arm, {
    name: "Standard_D4ps_v5",
    vCpus: 4,
    memoryGiB: 16,
    hyperVGenerations: ["V2"],
    cpuArchitecture: "Arm64",
    restricted: false,
  });
  const gen1 = vmSkuInfoOf(toResourceSku(findVmSku("Standard_D2_v3")!, ["eastus"]), "East US");
  assert.deepEqual(gen1?.hyperVGenerations, ["V1"]);
});

test("a location restriction marks the size restricted there only; other resource types are ignored", () => {
  const sku = {
    ...toResourceSku(findVmSku("Standard_D4s_v3")!, ["eastus", "westus2"]),
    restrictions: [{ type: "Location", values: ["westus2"], reasonCode: "NotAvailableForSubscription" }],
  };
  assert.equal(vmSkuInfoOf(sku, "westus2")?.restricted, true);
  assert.equal(vmSkuInfoOf(sku, "eastus")?.restricted, false);
  assert.equal(vmSkuInfoOf({ resourceType: "disks", name: "Premium_LRS" }, "eastus"), undefined);
});
