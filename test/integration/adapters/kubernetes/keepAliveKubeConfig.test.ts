// Over real TLS on 127.0.0.1: API calls of one KubeConfig share a pooled connection.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { KeepAliveKubeConfig } from "../../../../src/adapters/kubernetes/keepAliveKubeConfig.js";
import { testTls } from "../../../support/armTestSupport.js";

describe("KeepAliveKubeConfig", () => {
  let server: Server;
  let handshakes = 0;
  const authorizations: string[] = [];
  let kubeconfig: string;

  before(async () => {
    const tls = await testTls();
    server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
      authorizations.push(req.headers.authorization ?? "");
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ apiVersion: "v1", kind: "NodeList", metadata: {}, items: [] }));
    });
    server.on("secureConnection", () => handshakes++);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const ca = Buffer.from(tls.certPem).toString("base64");
    kubeconfig = JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "c",
          cluster: {
            server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
            "certificate-authority-data": ca,
          },
        },
      ],
      users: [{ name: "u", user: { token: "secret-token" } }],
      contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
      "current-context": "x",
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function handshakesOf(kc: KubeConfig): Promise<number> {
    kc.loadFromString(kubeconfig);
    const core = kc.makeApiClient(CoreV1Api);
    const before = handshakes;
    for (let i = 0; i < 3; i++) await core.listNode();
    return handshakes - before;
  }

  test("three calls: one TLS handshake (client-node alone makes one per call); the token still goes on every call", async () => {
    authorizations.length = 0;
    assert.equal(await handshakesOf(new KeepAliveKubeConfig()), 1);
    assert.deepEqual(authorizations, Array(3).fill("Bearer secret-token"));
    // What the adapter avoids: the library's own KubeConfig connects anew for every request.
    assert.equal(await handshakesOf(new KubeConfig()), 3);
  });

  test("the server's certificate is still verified against the kubeconfig's CA", async () => {
    const kc = new KeepAliveKubeConfig();
    kc.loadFromString(kubeconfig.replace(/"certificate-authority-data":"[^"]+"/, '"certificate-authority-data":""'));
    await assert.rejects(kc.makeApiClient(CoreV1Api).listNode(), /certificate/i);
  });
});
