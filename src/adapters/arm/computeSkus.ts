import { createPipelineRequest } from "@azure/core-rest-pipeline";
import type { ArmCallContext } from "../../domain/operations/armOperations.js";
import type { VmSkuInfo } from "../../domain/sandbox/poolPreflight.js";
import { SandboxError } from "../../domain/sandboxError.js";
import { withArmCallCapturing, type ArmClientFactory } from "./armClients.js";
import { translateArmError } from "./armErrors.js";

/** Compute resource-SKU api-version (ResourceSkus_List). */
export const COMPUTE_SKUS_API_VERSION = "2021-07-01";

/** A `Microsoft.Compute/skus` entry (only the fields read here). */
export interface ResourceSkuEntry {
  resourceType?: string;
  name?: string;
  locations?: string[];
  capabilities?: { name?: string; value?: string }[];
  restrictions?: readonly unknown[];
}

interface Restriction {
  type?: string;
  values?: string[];
  restrictionInfo?: { locations?: string[] };
}

function normalizeLocation(location: string): string {
  return location.toLowerCase().replace(/\s+/g, "");
}

/** The SDK-free mapping of one resource SKU to what the preflight needs. */
export function vmSkuInfoOf(sku: ResourceSkuEntry, location: string): VmSkuInfo | undefined {
  if (sku.resourceType !== "virtualMachines" || !sku.name) return undefined;
  const cap = (name: string): string | undefined =>
    sku.capabilities?.find((c) => c.name?.toLowerCase() === name.toLowerCase())?.value;
  const loc = normalizeLocation(location);
  const restricted = ((sku.restrictions ?? []) as Restriction[]).some(
    (r) =>
      r.type === "Location" &&
      ((r.values ?? []).some((v) => normalizeLocation(v) === loc) ||
        (r.restrictionInfo?.locations ?? []).some((v) => normalizeLocation(v) === loc)),
  );
  return {
    name: sku.name,
    vCpus: Number(cap("vCPUs") ?? 0),
    memoryGiB: Number(cap("MemoryGB") ?? 0),
    hyperVGenerations: (cap("HyperVGenerations") ?? "V1").split(",").map((g) => g.trim()),
    // Sizes without the capability are x64 (the API adds it for Arm64 sizes).
    cpuArchitecture: cap("CpuArchitectureType") ?? "x64",
    restricted,
  };
}

/**
 * The Compute resource-SKU API (no `@azure/arm-compute` dependency): a raw
 * `GET /subscriptions/{s}/providers/Microsoft.Compute/skus?$filter=location eq '…'`
 * through the same pipeline as the other ARM clients (credential, emulator
 * trust, correlation id). The VM sizes of a region are cached per
 * subscription and location for `ttlMs` (default 1 h): the list is large and
 * changes rarely.
 */
export class ComputeSkus {
  readonly #cache = new Map<string, { at: number; sizes: Map<string, VmSkuInfo> }>();

  constructor(
    private readonly clients: ArmClientFactory,
    private readonly ttlMs = 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The VM size in `location`, or undefined when the region does not offer it. */
  async getVmSku(
    subscriptionId: string,
    location: string,
    vmSize: string,
    call: ArmCallContext,
  ): Promise<VmSkuInfo | undefined> {
    const sizes = await this.#sizes(subscriptionId, normalizeLocation(location), call);
    return sizes.get(vmSize.toLowerCase());
  }

  async #sizes(subscriptionId: string, location: string, call: ArmCallContext): Promise<Map<string, VmSkuInfo>> {
    const key = `${subscriptionId.toLowerCase()}|${location}`;
    const cached = this.#cache.get(key);
    if (cached && this.now() - cached.at < this.ttlMs) return cached.sizes;
    const client = this.clients.resources(subscriptionId);
    const url = new URL(
      `${this.clients.settings.armEndpoint.replace(/\/$/, "")}/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Compute/skus`,
    );
    url.searchParams.set("api-version", COMPUTE_SKUS_API_VERSION);
    url.searchParams.set("$filter", `location eq '${location}'`);
    const sizes = new Map<string, VmSkuInfo>();
    let next: string | undefined = url.toString();
    const outcome = await withArmCallCapturing(call.correlationId, async () => {
      for (let page = 0; next && page < 50; page++) {
        const response = await client.sendRequest(createPipelineRequest({ url: next, method: "GET", timeout: 30_000 }));
        if (response.status !== 200) {
          const { RestError } = await import("@azure/core-rest-pipeline");
          throw new RestError(`HTTP ${response.status}`, {
            statusCode: response.status,
            response,
            request: response.request,
          });
        }
        const body = JSON.parse(response.bodyAsText ?? "{}") as { value?: ResourceSkuEntry[]; nextLink?: string };
        for (const sku of body.value ?? []) {
          if (sku.locations && !sku.locations.some((l) => normalizeLocation(l) === location)) continue;
          const info = vmSkuInfoOf(sku, location);
          if (info) sizes.set(info.name.toLowerCase(), info);
        }
        next = body.nextLink;
      }
    });
    if (outcome.error !== undefined) {
      if (outcome.error instanceof SyntaxError)
        throw new SandboxError("UpstreamFailed", "The Compute SKU API answered with a body that is not JSON.");
      throw translateArmError(outcome.error, `listing the VM sizes of ${location}`);
    }
    this.#cache.set(key, { at: this.now(), sizes });
    return sizes;
  }
}
