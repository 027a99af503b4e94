// Every ARM client asks for a token for ARM_ENDPOINT's own scope (sovereign clouds), the AKS client included.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { TokenCredential } from "@azure/core-auth";
import { ArmClientFactory } from "../../../../src/adapters/arm/armClients.js";
import { startTestArm, SUB, type TestArm } from "../../../support/armTestSupport.js";

describe("ArmClientFactory credential scope", () => {
  let t: TestArm;
  before(async () => {
    t = await startTestArm();
  });
  after(async () => {
    await t?.close();
  });

  test("the AKS, Features and Resources clients all request `${ARM_ENDPOINT}/.default`", async () => {
    const scopes = new Set<string>();
    const recording: TokenCredential = {
      getToken: async (requested) => {
        for (const s of [requested].flat()) scopes.add(s);
        return { token: "t", expiresOnTimestamp: Date.now() + 3600e3 };
      },
    };
    const clients = new ArmClientFactory(
      { armEndpoint: `${t.arm.url}/`, simulate: false, simulatedCaCertPath: undefined, azureAuthorityHost: undefined },
      { credential: recording, httpClient: t.clientOptions.httpClient },
    );
    await clients
      .containerService(SUB, "2026-10-01")
      .managedClusters.get("rg-none", "none")
      .catch(() => undefined);
    await clients.resources(SUB).providers.get("Microsoft.ContainerService");
    await clients
      .features(SUB)
      .features.get("Microsoft.ContainerService", "KataVMIsolationPreview")
      .catch(() => undefined);
    assert.deepEqual([...scopes], [`${t.arm.url}/.default`]);
  });
});
