import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { referenceDir } from "../../../../src/emulators/referenceDir.js";
import {
  findVmSku,
  supportsNestedVirtualization,
  toResourceSku,
  vmSkuCatalogue,
} from "../../../../src/emulators/arm/vmSkuCatalogue.js";

test("the catalogue holds every size of vm-families.md with its vCPU / memory", () => {
  const md = readFileSync(join(referenceDir(), "vm-families.md"), "utf8");
  const listed = [...md.matchAll(/`(Standard_[A-Za-z0-9_]+)` (\d+)\/(\d+)/g)];
  assert.ok(listed.length >= 14);
  for (const [, name, cpu, mem] of listed) {
    const sku = findVmSku(name!);
    assert.ok(sku, `${name} missing`);
    assert.equal(sku.vCpus, Number(cpu), name);
    assert.equal(sku.memoryGiB, Number(mem), name);
  }
});

test("the family facts match vm-families.md", () => {
  const facts: Record<string, [nested: boolean, gen2: boolean, x64: boolean]> = {
    Standard_D4s_v3: [true, true, true],
    Standard_D2_v3: [true, false, true],
    Standard_D4as_v4: [false, true, true],
    Standard_D4as_v5: [true, true, true],
    Standard_B2s: [false, true, true],
    Standard_DS2_v2: [false, true, true],
    Standard_D4ps_v5: [false, true, false],
    Standard_E4s_v5: [true, true, true],
    Standard_F4s_v2: [true, true, true],
  };
  for (const [name, [nested, gen2, x64]] of Object.entries(facts)) {
    const sku = findVmSku(name)!;
    assert.equal(supportsNestedVirtualization(sku), nested, `${name} nested`);
    assert.equal(sku.hyperVGenerations.includes("V2"), gen2, `${name} gen2`);
    assert.equal(sku.cpuArchitecture === "x64", x64, `${name} x64`);
  }
});

test("resource SKUs are shaped like Microsoft.Compute/skus entries", () => {
  const sku = toResourceSku(findVmSku("standard_d4s_v3")!, ["eastus"]);
  assert.equal(sku.resourceType, "virtualMachines");
  assert.equal(sku.name, "Standard_D4s_v3");
  assert.equal(sku.size, "D4s_v3");
  assert.equal(sku.family, "standardDSv3Family");
  assert.deepEqual(sku.locations, ["eastus"]);
  assert.equal(sku.locationInfo[0]?.location, "eastus");
  const cap = Object.fromEntries(sku.capabilities.map((c) => [c.name, c.value]));
  assert.equal(cap.vCPUs, "4");
  assert.equal(cap.MemoryGB, "16");
  assert.equal(cap.HyperVGenerations, "V1,V2");
  assert.equal(cap.CpuArchitectureType, "x64");
  assert.deepEqual(sku.restrictions, []);
  assert.equal(vmSkuCatalogue.length, new Set(vmSkuCatalogue.map((s) => s.name)).size);
});
