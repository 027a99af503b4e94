/**
 * The VM sizes the ARM emulator knows: every size listed in
 * `reference/vm-families.md`, plus `Standard_DS1_v2`, which the
 * reference AKS examples use. Data only: the AKS rules, the
 * `Microsoft.Compute/skus` surface, the SimulatedCloud's node capacities, the
 * tests and the benchmarks all read it from here.
 *
 * Nested virtualization is not in any Azure API (see vm-families.md), so it is
 * recorded per family in {@link vmFamilies}.
 */

/** A size family (series) and the two facts Pod Sandboxing needs. */
export interface VmFamily {
  /** Compute SKU `family` value, e.g. `standardDSv3Family`. */
  family: string;
  /** Series name as the size documentation writes it, e.g. `Dsv3`. */
  series: string;
  /** The series can run nested virtualization (required by Kata VM isolation). */
  nestedVirtualization: boolean;
}

/** One VM size of the catalogue. */
export interface VmSku {
  name: string;
  /** Compute SKU `family`; a key of {@link vmFamilies}. */
  family: string;
  vCpus: number;
  memoryGiB: number;
  /** `HyperVGenerations` capability: `V1` or `V1,V2` (or `V2` for Arm64 sizes). */
  hyperVGenerations: "V1" | "V1,V2" | "V2";
  cpuArchitecture: "x64" | "Arm64";
}

/** Families of {@link vmSkuCatalogue}, keyed by the Compute SKU `family`. */
export const vmFamilies: Readonly<Record<string, VmFamily>> = {
  standardDv3Family: { family: "standardDv3Family", series: "Dv3", nestedVirtualization: true },
  standardDSv3Family: { family: "standardDSv3Family", series: "Dsv3", nestedVirtualization: true },
  standardDSv5Family: { family: "standardDSv5Family", series: "Dsv5", nestedVirtualization: true },
  standardESv5Family: { family: "standardESv5Family", series: "Esv5", nestedVirtualization: true },
  standardFSv2Family: { family: "standardFSv2Family", series: "Fsv2", nestedVirtualization: true },
  standardDASv4Family: { family: "standardDASv4Family", series: "Dasv4", nestedVirtualization: false },
  standardDASv5Family: { family: "standardDASv5Family", series: "Dasv5", nestedVirtualization: true },
  standardBSFamily: { family: "standardBSFamily", series: "B", nestedVirtualization: false },
  standardDSv2Family: { family: "standardDSv2Family", series: "DSv2", nestedVirtualization: false },
  standardDPSv5Family: { family: "standardDPSv5Family", series: "Dpsv5", nestedVirtualization: false },
};

/** Every size of vm-families.md, plus `Standard_DS1_v2` used by the reference examples. */
export const vmSkuCatalogue: readonly VmSku[] = [
  {
    name: "Standard_D2s_v3",
    family: "standardDSv3Family",
    vCpus: 2,
    memoryGiB: 8,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D4s_v3",
    family: "standardDSv3Family",
    vCpus: 4,
    memoryGiB: 16,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D8s_v3",
    family: "standardDSv3Family",
    vCpus: 8,
    memoryGiB: 32,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D16s_v3",
    family: "standardDSv3Family",
    vCpus: 16,
    memoryGiB: 64,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D2_v3",
    family: "standardDv3Family",
    vCpus: 2,
    memoryGiB: 8,
    hyperVGenerations: "V1",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D4s_v5",
    family: "standardDSv5Family",
    vCpus: 4,
    memoryGiB: 16,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D8s_v5",
    family: "standardDSv5Family",
    vCpus: 8,
    memoryGiB: 32,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_E4s_v5",
    family: "standardESv5Family",
    vCpus: 4,
    memoryGiB: 32,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_F4s_v2",
    family: "standardFSv2Family",
    vCpus: 4,
    memoryGiB: 8,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D4as_v4",
    family: "standardDASv4Family",
    vCpus: 4,
    memoryGiB: 16,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D4as_v5",
    family: "standardDASv5Family",
    vCpus: 4,
    memoryGiB: 16,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_B2s",
    family: "standardBSFamily",
    vCpus: 2,
    memoryGiB: 4,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_DS2_v2",
    family: "standardDSv2Family",
    vCpus: 2,
    memoryGiB: 7,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_DS1_v2",
    family: "standardDSv2Family",
    vCpus: 1,
    memoryGiB: 3.5,
    hyperVGenerations: "V1,V2",
    cpuArchitecture: "x64",
  },
  {
    name: "Standard_D4ps_v5",
    family: "standardDPSv5Family",
    vCpus: 4,
    memoryGiB: 16,
    hyperVGenerations: "V2",
    cpuArchitecture: "Arm64",
  },
];

/** Case-insensitive lookup (ARM treats `vmSize` case-insensitively). */
export function findVmSku(name: string, catalogue: readonly VmSku[] = vmSkuCatalogue): VmSku | undefined {
  const wanted = name.toLowerCase();
  return catalogue.find((s) => s.name.toLowerCase() === wanted);
}

/** Whether the size's family supports nested virtualization (false for unknown families). */
export function supportsNestedVirtualization(sku: VmSku): boolean {
  return vmFamilies[sku.family]?.nestedVirtualization ?? false;
}

/** A `Microsoft.Compute/skus` entry (ResourceSku, api-version 2021-07-01), as the real API shapes it. */
export interface ResourceSku {
  resourceType: "virtualMachines";
  name: string;
  tier: string;
  size: string;
  family: string;
  locations: string[];
  locationInfo: { location: string; zones: string[]; zoneDetails: unknown[] }[];
  capabilities: { name: string; value: string }[];
  restrictions: unknown[];
}

/** Renders a catalogue entry as the Compute resource-SKU API would for `locations`. */
export function toResourceSku(sku: VmSku, locations: readonly string[]): ResourceSku {
  return {
    resourceType: "virtualMachines",
    name: sku.name,
    tier: "Standard",
    size: sku.name.replace(/^Standard_/, ""),
    family: sku.family,
    locations: [...locations],
    locationInfo: locations.map((location) => ({ location, zones: ["1", "2", "3"], zoneDetails: [] })),
    capabilities: [
      { name: "MaxResourceVolumeMB", value: String(sku.vCpus * 8192) },
      { name: "OSVhdSizeMB", value: "1047552" },
      { name: "vCPUs", value: String(sku.vCpus) },
      { name: "MemoryPreservingMaintenanceSupported", value: "True" },
      { name: "HyperVGenerations", value: sku.hyperVGenerations },
      { name: "MemoryGB", value: String(sku.memoryGiB) },
      { name: "MaxDataDiskCount", value: String(Math.min(64, sku.vCpus * 2 + 2)) },
      { name: "CpuArchitectureType", value: sku.cpuArchitecture },
      { name: "LowPriorityCapable", value: "True" },
      { name: "PremiumIO", value: /s_v|^Standard_DS|^Standard_B/.test(sku.name) ? "True" : "False" },
      { name: "VMDeploymentTypes", value: "IaaS" },
      { name: "vCPUsAvailable", value: String(sku.vCpus) },
      { name: "vCPUsPerCore", value: sku.vCpus > 1 ? "2" : "1" },
      { name: "EphemeralOSDiskSupported", value: "True" },
      { name: "AcceleratedNetworkingEnabled", value: sku.vCpus >= 2 ? "True" : "False" },
      { name: "MaxNetworkInterfaces", value: String(Math.max(2, sku.vCpus)) },
    ],
    restrictions: [],
  };
}
