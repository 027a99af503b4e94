import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  managedClusterUpdateBody,
  MANAGED_CLUSTER_READ_ONLY_PATHS,
} from "../../../../src/adapters/arm/managedClusterDocument.js";
import { referenceDir } from "../../../../src/emulators/referenceDir.js";

type Schema = {
  $ref?: string;
  readOnly?: boolean;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
};
type Swagger = { definitions: Record<string, Schema> };

const aks = JSON.parse(
  readFileSync(join(referenceDir(), "arm", "containerservice", "2026-10-01", "managedClusters.json"), "utf8"),
) as Swagger;
const common = JSON.parse(
  readFileSync(join(referenceDir(), "arm", "common-types", "resource-management", "v6", "types.json"), "utf8"),
) as Swagger;

function resolveRef(ref: string, from: Swagger): { schema: Schema; doc: Swagger } {
  const name = ref.split("/").at(-1)!;
  const doc = ref.startsWith("#") ? from : common;
  const schema = doc.definitions[name];
  assert.ok(schema, `unresolved ${ref}`);
  return { schema, doc };
}

/** Every readOnly path under a definition (`[]` for array items), following local and common-types refs. */
function readOnlyPaths(schema: Schema, doc: Swagger, prefix: string, seen: Set<string>): string[] {
  const out: string[] = [];
  for (const part of schema.allOf ?? []) {
    if (!part.$ref) continue;
    const resolved = resolveRef(part.$ref, doc);
    out.push(...readOnlyPaths(resolved.schema, resolved.doc, prefix, seen));
  }
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    if (prop.readOnly) {
      out.push(prefix + name);
      continue;
    }
    const ref = prop.$ref ?? prop.items?.$ref;
    if (ref && !seen.has(ref)) {
      const resolved = resolveRef(ref, doc);
      out.push(
        ...readOnlyPaths(
          resolved.schema,
          resolved.doc,
          `${prefix}${name}${prop.items ? "[]" : ""}.`,
          new Set([...seen, ref]),
        ),
      );
    }
  }
  return out;
}

test("the read-only list covers every readOnly property of ManagedCluster in the AKS swagger", () => {
  const fromSwagger = new Set(readOnlyPaths(aks.definitions.ManagedCluster!, aks, "", new Set()));
  assert.ok(fromSwagger.has("id") && fromSwagger.has("properties.provisioningState"), [...fromSwagger].join(", "));
  const missing = [...fromSwagger].filter((p) => !MANAGED_CLUSTER_READ_ONLY_PATHS.includes(p));
  assert.deepEqual(missing, [], "read-only in the swagger but sent back on a re-PUT");
  const extra = MANAGED_CLUSTER_READ_ONLY_PATHS.filter((p) => !fromSwagger.has(p));
  assert.deepEqual(extra, [], "stripped, but writable in the swagger");
});

test("the update body keeps everything else byte for byte, dates and secrets included, and appends the pool once", () => {
  const document = {
    id: "/subscriptions/s/resourceGroups/r/providers/Microsoft.ContainerService/managedClusters/c",
    name: "c",
    type: "Microsoft.ContainerService/ManagedClusters",
    location: "eastus",
    properties: {
      provisioningState: "Succeeded",
      fqdn: "c.hcp.eastus.azmk8s.io",
      upgradeSettings: { overrideSettings: { until: "2026-12-31T08:00:00Z" } },
      servicePrincipalProfile: { clientId: "msi", secret: "kept" },
      previewOnly: { anything: [1, "two", null] },
      agentPoolProfiles: [
        { name: "system", count: 1, provisioningState: "Succeeded", eTag: "x", powerState: { code: "Running" } },
      ],
    },
  };
  const before = structuredClone(document);
  const body = managedClusterUpdateBody(document, { name: "sandbox", count: 1 });
  assert.deepEqual(document, before, "the input is not modified");
  assert.deepEqual(body, {
    location: "eastus",
    properties: {
      upgradeSettings: { overrideSettings: { until: "2026-12-31T08:00:00Z" } },
      servicePrincipalProfile: { clientId: "msi", secret: "kept" },
      previewOnly: { anything: [1, "two", null] },
      agentPoolProfiles: [
        { name: "system", count: 1, powerState: { code: "Running" } },
        { name: "sandbox", count: 1 },
      ],
    },
  });
  const again = managedClusterUpdateBody(body, { name: "Sandbox", count: 3 });
  assert.equal(
    (again.properties as { agentPoolProfiles: unknown[] }).agentPoolProfiles.length,
    2,
    "a pool of that name is not added twice",
  );
});
