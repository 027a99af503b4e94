/**
 * Which VM size families can host Pod Sandboxing's nested VMs.
 *
 * No Azure API answers "does this size support nested virtualization"
 * (reference/vm-families.md): the Compute SKU API gives generation,
 * vCPUs, memory and architecture, but nested virtualization is only stated in
 * the size-series documentation. This table is that documentation as data;
 * operators can put their own rules in front of it (first match wins).
 */
export interface VmFamilyRule {
  /** Human name of the family, e.g. `Dsv3`. */
  readonly family: string;
  /** Matches the size name (`Standard_D4s_v3`), case-insensitive. */
  readonly pattern: RegExp;
  readonly nestedVirtualization: boolean;
}

// Size names: Standard_<series><vCPUs><feature letters>[_v<version>]
// (feature letters: a = AMD, p = Arm64, d = local disk, s = premium storage, l = low memory, m = memory, b = block storage).
export const DEFAULT_VM_FAMILY_RULES: readonly VmFamilyRule[] = Object.freeze([
  { family: "Dav4/Dasv4 (AMD)", pattern: /^Standard_D\d+as?_v4$/i, nestedVirtualization: false },
  { family: "Eav4/Easv4 (AMD)", pattern: /^Standard_E\d+as?_v4$/i, nestedVirtualization: false },
  { family: "Dasv5/Dadsv5 (AMD)", pattern: /^Standard_D\d+ad?s_v5$/i, nestedVirtualization: true },
  { family: "Dv3/Dsv3", pattern: /^Standard_D\d+s?_v3$/i, nestedVirtualization: true },
  { family: "Dv4/Dsv4/Ddv4/Ddsv4", pattern: /^Standard_D\d+d?s?_v4$/i, nestedVirtualization: true },
  { family: "Dv5/Dsv5/Ddv5/Ddsv5/Dlsv5/Dldsv5", pattern: /^Standard_D\d+l?d?s?_v5$/i, nestedVirtualization: true },
  { family: "Ev3/Esv3", pattern: /^Standard_E\d+s?_v3$/i, nestedVirtualization: true },
  { family: "Ev4/Esv4/Edv4/Edsv4", pattern: /^Standard_E\d+d?s?_v4$/i, nestedVirtualization: true },
  { family: "Ev5/Esv5/Edv5/Edsv5/Ebdsv5", pattern: /^Standard_E\d+b?d?s?_v5$/i, nestedVirtualization: true },
  { family: "Fsv2", pattern: /^Standard_F\d+s_v2$/i, nestedVirtualization: true },
  { family: "FX", pattern: /^Standard_FX\d+m?d?s?$/i, nestedVirtualization: true },
  { family: "M", pattern: /^Standard_M\d+[a-z-]*(_v\d+)?$/i, nestedVirtualization: true },
  { family: "B (burstable)", pattern: /^Standard_B\d+/i, nestedVirtualization: false },
  { family: "D/DS v1, Dv2/DSv2", pattern: /^Standard_DS?\d+(_v2)?$/i, nestedVirtualization: false },
  { family: "A/Av2", pattern: /^(Standard|Basic)_A\d+/i, nestedVirtualization: false },
  { family: "DC (confidential)", pattern: /^Standard_DC\d+/i, nestedVirtualization: false },
  { family: "N (GPU)", pattern: /^Standard_N[A-Z]*\d+/i, nestedVirtualization: false },
  {
    family: "F v1, G, H, L, Lsv2",
    pattern: /^Standard_(F\d+s?|G\w*\d+|H\w*\d+|L\d+s?(_v2)?)$/i,
    nestedVirtualization: false,
  },
]);

/** The family rule for a size name, or undefined when the table does not know it. */
export function vmFamilyOf(
  vmSize: string,
  rules: readonly VmFamilyRule[] = DEFAULT_VM_FAMILY_RULES,
): VmFamilyRule | undefined {
  return rules.find((rule) => rule.pattern.test(vmSize));
}
