import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { SandboxError } from "../../domain/sandboxError.js";
import type { WebhookTargetGuard } from "../../domain/webhooks/webhookPorts.js";

/** An address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address (injected in tests: no real DNS). */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: HostResolver = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Addresses no webhook may reach: private, loopback, link-local, cloud metadata, shared, reserved, multicast. */
function forbiddenRanges(): BlockList {
  const list = new BlockList();
  const v4: [string, number][] = [
    ["0.0.0.0", 8],
    ["10.0.0.0", 8],
    ["100.64.0.0", 10],
    ["127.0.0.0", 8],
    ["169.254.0.0", 16],
    ["172.16.0.0", 12],
    ["192.0.0.0", 24],
    ["192.0.2.0", 24],
    ["192.88.99.0", 24],
    ["192.168.0.0", 16],
    ["198.18.0.0", 15],
    ["198.51.100.0", 24],
    ["203.0.113.0", 24],
    ["224.0.0.0", 4],
    ["240.0.0.0", 4],
    // Azure's platform endpoint (WireServer) and the instance metadata service.
    ["168.63.129.16", 32],
    ["169.254.169.254", 32],
  ];
  for (const [net, prefix] of v4) list.addSubnet(net, prefix, "ipv4");
  const v6: [string, number][] = [
    ["::", 127],
    ["64:ff9b::", 96],
    ["64:ff9b:1::", 48],
    ["100::", 64],
    ["2001::", 23],
    ["2001:db8::", 32],
    ["2002::", 16],
    ["fc00::", 7],
    ["fe80::", 10],
    ["fec0::", 10],
    ["ff00::", 8],
  ];
  for (const [net, prefix] of v6) list.addSubnet(net, prefix, "ipv6");
  return list;
}

const FORBIDDEN = forbiddenRanges();

/** Whether an IP address is one webhooks may never call (outside simulated mode). */
export function isForbiddenAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  return FORBIDDEN.check(address, family === 6 ? "ipv6" : "ipv4");
}

function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const family = isIP(host);
  if (family === 4) return host.startsWith("127.");
  return family === 6 && host === "::1";
}

function refuse(message: string): SandboxError {
  return new SandboxError("WebhookTargetNotAllowed", message, { target: "body.url" });
}

export interface GuardOptions {
  /** Simulated mode: loopback targets (http or https) are allowed, nothing else changes. */
  simulate: boolean;
  resolve?: HostResolver;
}

/**
 * The SSRF guard of webhook targets: https only (http only to loopback in
 * simulated mode), no credentials in the URL, and every address the host
 * name resolves to must be public — no private, loopback, link-local,
 * metadata or reserved address (loopback allowed in simulated mode only).
 * {@link vet} returns the checked addresses, so the sender connects to
 * exactly those (no second resolution an attacker could rebind).
 */
export class DnsWebhookTargetGuard implements WebhookTargetGuard {
  readonly #simulate: boolean;
  readonly #resolve: HostResolver;

  constructor(options: GuardOptions) {
    this.#simulate = options.simulate;
    this.#resolve = options.resolve ?? systemResolver;
  }

  async check(url: string): Promise<void> {
    await this.vet(url);
  }

  /** @returns the addresses the URL's host may be reached at. @throws SandboxError `WebhookTargetNotAllowed`. */
  async vet(text: string): Promise<ResolvedAddress[]> {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new SandboxError("InvalidRequest", `url "${text.slice(0, 200)}" is not an absolute URL.`, {
        target: "body.url",
      });
    }
    if (url.username !== "" || url.password !== "")
      throw refuse("The webhook URL must not carry credentials; receivers verify the signature instead.");
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
    const loopback = isLoopbackHost(host);
    if (url.protocol === "http:") {
      if (!(this.#simulate && loopback))
        throw refuse("The webhook URL must use https (http is allowed only to loopback in simulated mode).");
    } else if (url.protocol !== "https:") {
      throw refuse(`The webhook URL must use https, not ${url.protocol.replace(/:$/, "")}.`);
    }
    if (this.#simulate && loopback)
      return [{ address: host === "localhost" ? "127.0.0.1" : host, family: isIP(host) === 6 ? 6 : 4 }];
    let addresses: ResolvedAddress[];
    if (isIP(host) !== 0) {
      addresses = [{ address: host, family: isIP(host) === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await this.#resolve(host);
      } catch {
        throw refuse(`The webhook host "${host}" does not resolve.`);
      }
      if (addresses.length === 0) throw refuse(`The webhook host "${host}" does not resolve.`);
    }
    const bad = addresses.find((a) => isForbiddenAddress(a.address));
    if (bad) {
      const named = isIP(host) === 0 ? `"${host}" resolves to ${bad.address}, which is` : `${bad.address} is`;
      throw refuse(
        `The webhook URL is not allowed: ${named} a private, loopback, link-local, metadata or reserved address.`,
      );
    }
    return addresses;
  }
}
