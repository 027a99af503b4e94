import { Agent } from "node:https";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";

/**
 * An Azure SDK `HttpClient` that trusts exactly `caPem` (the emulators'
 * self-signed certificate) for HTTPS, and nothing else: Mozilla's CA list is
 * replaced, TLS verification stays on, and no process-wide setting
 * (`NODE_TLS_REJECT_UNAUTHORIZED`, `NODE_EXTRA_CA_CERTS`) is touched.
 *
 * Pass it as the `httpClient` client option of `FeatureClient`,
 * `ResourceManagementClient` and `ContainerServiceClient` (all accept it).
 * Works by giving every request that has no agent yet one keep-alive
 * `https.Agent` with `ca: caPem` (core-rest-pipeline's node client uses
 * `request.agent` when set). Create one per CA and reuse it: the agent pools
 * connections. Use only in simulated mode; real Azure needs the default client.
 */
export function createTrustingHttpClient(caPem: string): HttpClient {
  const inner = createDefaultHttpClient();
  const agent = new Agent({ ca: caPem, keepAlive: true });
  return {
    sendRequest(request) {
      // Only HTTPS requests: an https.Agent cannot carry plain http (Azurite's default endpoint).
      if (request.url.startsWith("https:")) request.agent ??= agent;
      return inner.sendRequest(request);
    },
  };
}
