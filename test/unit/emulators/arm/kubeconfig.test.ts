import { test } from "node:test";
import assert from "node:assert/strict";
import { buildKubeconfig } from "../../../../src/emulators/arm/kubeconfig.js";

test("token and exec kubeconfigs", () => {
  const input = {
    clusterName: "c1",
    userName: "clusterUser_rg_c1",
    server: "https://127.0.0.1:1/clusters/k",
    caCertPem: "PEM",
    token: "tok",
    format: "token" as const,
  };
  const token = buildKubeconfig(input);
  assert.match(token, /certificate-authority-data: UEVN\n/);
  assert.match(token, /server: "https:\/\/127.0.0.1:1\/clusters\/k"/);
  assert.match(token, /token: "tok"/);
  const exec = buildKubeconfig({ ...input, format: "exec" });
  assert.match(exec, /command: kubelogin/);
  assert.doesNotMatch(exec, /tok"/);
});
