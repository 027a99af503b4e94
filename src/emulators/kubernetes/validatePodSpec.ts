import type { StatusCause } from "./kubernetesApiError.js";
import type { PodSpec } from "./kubernetesObjects.js";
import { parseQuantity } from "./parseQuantity.js";
import { invalidValue, requiredValue, unsupportedValue, validateDns1123Label } from "./validateObjectMeta.js";

/** The apiserver's PodSpec checks beyond the schema (container names and images, restartPolicy). */
export function validatePodSpec(spec: PodSpec | undefined, path: string, restartPolicies: string[]): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!spec) return [requiredValue(path)];
  if (!spec.containers || spec.containers.length === 0) causes.push(requiredValue(`${path}.containers`));
  const seen = new Set<string>();
  (spec.containers ?? []).forEach((c, i) => {
    const field = `${path}.containers[${i}]`;
    if (!c.name) causes.push(requiredValue(`${field}.name`));
    else {
      causes.push(...validateDns1123Label(`${field}.name`, c.name));
      if (seen.has(c.name))
        causes.push({
          reason: "FieldValueDuplicate",
          message: `Duplicate value: ${JSON.stringify(c.name)}`,
          field: `${field}.name`,
        });
      seen.add(c.name);
    }
    if (!c.image) causes.push(requiredValue(`${field}.image`));
    for (const kind of ["limits", "requests"] as const) {
      for (const [resource, value] of Object.entries(c.resources?.[kind] ?? {})) {
        if (parseQuantity(value) === undefined)
          causes.push(
            invalidValue(
              `${field}.resources.${kind}.${resource}`,
              value,
              "must match the regex ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$",
            ),
          );
      }
    }
  });
  const policy = spec.restartPolicy ?? "Always";
  if (!restartPolicies.includes(policy)) {
    causes.push(
      spec.restartPolicy === undefined
        ? requiredValue(`${path}.restartPolicy`, `valid values: ${restartPolicies.map((p) => `"${p}"`).join(", ")}`)
        : unsupportedValue(`${path}.restartPolicy`, policy, restartPolicies),
    );
  }
  return causes;
}
