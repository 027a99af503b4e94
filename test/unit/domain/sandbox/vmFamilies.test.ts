import { test } from "node:test";
import assert from "node:assert/strict";
import { vmFamilyOf } from "../../../../src/domain/sandbox/vmFamilies.js";

// The sizes of reference/vm-families.md's catalogue.
const expected: Record<string, boolean | undefined> = {
  Standard_D2s_v3: true,
  Standard_D4s_v3: true,
  Standard_D8s_v3: true,
  Standard_D16s_v3: true,
  Standard_D2_v3: true, // nested yes, generation 1 only (the SKU API says so)
  Standard_D4s_v5: true,
  Standard_D8s_v5: true,
  Standard_E4s_v5: true,
  Standard_F4s_v2: true,
  Standard_D4as_v4: false,
  Standard_D4as_v5: true,
  Standard_B2s: false,
  Standard_DS2_v2: false,
  Standard_D4ds_v4: true,
  Standard_E4as_v4: false,
  Standard_FX4mds: true,
  Standard_NC6s_v3: false,
  Standard_DC4s_v3: false,
};

test("nested virtualization per the family table", () => {
  for (const [size, nested] of Object.entries(expected)) {
    assert.equal(vmFamilyOf(size)?.nestedVirtualization, nested, size);
  }
});

test("unknown sizes are not guessed", () => {
  assert.equal(vmFamilyOf("Standard_Z9_v9"), undefined);
});

test("operators can put rules in front", () => {
  const rules = [{ family: "custom", pattern: /^Standard_B2s$/i, nestedVirtualization: true }];
  assert.equal(vmFamilyOf("Standard_B2s", rules)?.family, "custom");
});
