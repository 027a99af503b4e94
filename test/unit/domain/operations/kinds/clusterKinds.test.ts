import { test } from "node:test";
import assert from "node:assert/strict";
import { dnsPrefixFor } from "../../../../../src/domain/operations/kinds/clusterKinds.js";

test("generated dnsPrefix values start and end alphanumeric and fit AKS's 1–54 characters", () => {
  assert.equal(dnsPrefixFor("walk1"), "walk1");
  assert.equal(dnsPrefixFor("_team_cluster_"), "team-cluster");
  assert.equal(dnsPrefixFor("a__b"), "a-b");
  assert.equal(dnsPrefixFor("___"), "aks");
  const long = `c${"-x".repeat(26)}-${"y".repeat(10)}`; // character 54 is a hyphen
  const prefix = dnsPrefixFor(long);
  assert.ok(prefix.length >= 1 && prefix.length <= 54, prefix);
  for (const name of [long, "x".repeat(63), "a-".repeat(40), "9_cluster", "Z-"]) {
    const p = dnsPrefixFor(name);
    assert.match(p, /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,52}[a-zA-Z0-9])?$/, `${name} → ${p}`);
  }
});
