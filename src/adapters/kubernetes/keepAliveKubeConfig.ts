import { Agent, type AgentOptions } from "node:https";
import { KubeConfig, type RequestContext } from "@kubernetes/client-node";

/**
 * Idle pooled connections are closed after this long: sooner than an API
 * server drops them (Node's 5 s keep-alive timeout, Go's 90 s idle timeout),
 * so a request never races the server closing the socket it reuses.
 */
const IDLE_SOCKET_MS = 4000;

/**
 * A KubeConfig whose API clients reuse their TLS connections.
 * `@kubernetes/client-node` 1.x builds a new `https.Agent` for every request
 * (`applySecurityAuthentication`), so every call paid a TCP connect, a TLS
 * handshake and a fresh secure context (parsing the CA). This keeps one
 * keep-alive agent with the same TLS options (CA, client certificate,
 * `rejectUnauthorized`, server name) per KubeConfig; credentials in headers
 * (bearer tokens) are still applied per request. Proxied clusters keep the
 * library's own agents.
 */
export class KeepAliveKubeConfig extends KubeConfig {
  #agent: Agent | undefined;

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const created = context.getAgent();
    if (this.getCurrentCluster()?.proxyUrl || !(created instanceof Agent) || created.constructor !== Agent) return;
    this.#agent ??= new Agent({
      ...(created as Agent & { options: AgentOptions }).options,
      keepAlive: true,
      timeout: IDLE_SOCKET_MS,
    });
    context.setAgent(this.#agent);
    // The per-request agent built above held no socket yet; nothing to close.
  }
}
