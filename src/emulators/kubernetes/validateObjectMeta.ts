import type { StatusCause } from "./kubernetesApiError.js";

/**
 * The apiserver's name and label checks (apimachinery `validation`), with its
 * own messages, so that a client sees the same `details.causes` as from a
 * real cluster.
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME_PART = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const NAME_PART_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

/** `Invalid value: "<v>": <why>` cause. */
export function invalidValue(field: string, value: unknown, why: string): StatusCause {
  return { reason: "FieldValueInvalid", message: `Invalid value: ${JSON.stringify(value)}: ${why}`, field };
}

/** `Required value[: <detail>]` cause. */
export function requiredValue(field: string, detail?: string): StatusCause {
  return { reason: "FieldValueRequired", message: detail ? `Required value: ${detail}` : "Required value", field };
}

/** `Unsupported value: "<v>": supported values: "a", "b"` cause. */
export function unsupportedValue(field: string, value: unknown, supported: string[]): StatusCause {
  return {
    reason: "FieldValueNotSupported",
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${supported.map((s) => `"${s}"`).join(", ")}`,
    field,
  };
}

/** Checks a DNS-1123 label (≤ 63 chars); returns causes for `field`. */
export function validateDns1123Label(field: string, value: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (value.length > 63) out.push(invalidValue(field, value, "must be no more than 63 characters"));
  if (!DNS1123_LABEL.test(value)) out.push(invalidValue(field, value, LABEL_MSG));
  return out;
}

/** Checks a DNS-1123 subdomain (≤ 253 chars); returns causes for `field`. */
export function validateDns1123Subdomain(field: string, value: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (value.length > 253) out.push(invalidValue(field, value, "must be no more than 253 characters"));
  if (!DNS1123_SUBDOMAIN.test(value)) out.push(invalidValue(field, value, SUBDOMAIN_MSG));
  return out;
}

/** Checks label keys (`[prefix/]name`) and values; returns causes for `field` (e.g. `metadata.labels`). */
export function validateLabels(field: string, labels: Record<string, unknown> | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  for (const [key, value] of Object.entries(labels ?? {})) {
    const parts = key.split("/");
    const name = parts.length === 2 ? (parts[1] ?? "") : key;
    if (parts.length > 2)
      out.push(
        invalidValue(
          field,
          key,
          "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        ),
      );
    else {
      if (parts.length === 2) {
        const prefix = parts[0] ?? "";
        if (prefix === "") out.push(invalidValue(field, key, "prefix part must be non-empty"));
        else if (!DNS1123_SUBDOMAIN.test(prefix) || prefix.length > 253)
          out.push(invalidValue(field, key, `prefix part ${SUBDOMAIN_MSG}`));
      }
      if (name.length > 63) out.push(invalidValue(field, key, "name part must be no more than 63 characters"));
      if (!QUALIFIED_NAME_PART.test(name)) out.push(invalidValue(field, key, NAME_PART_MSG));
    }
    if (typeof value !== "string") continue; // type errors are reported by the schema check
    if (value.length > 63) out.push(invalidValue(field, value, "must be no more than 63 characters"));
    if (!LABEL_VALUE.test(value)) out.push(invalidValue(field, value, LABEL_VALUE_MSG));
  }
  return out;
}

/**
 * Validates `metadata.name`/`generateName` (`nameRule`: the rule the resource
 * uses; namespaces use labels, pods and jobs subdomains) and `metadata.labels`.
 */
export function validateObjectMeta(
  metadata: { name?: string; generateName?: string; labels?: Record<string, unknown> } | undefined,
  nameRule: "label" | "subdomain",
): StatusCause[] {
  const causes: StatusCause[] = [];
  const check = nameRule === "label" ? validateDns1123Label : validateDns1123Subdomain;
  if (!metadata?.name && !metadata?.generateName) {
    causes.push(requiredValue("metadata.name", "name or generateName is required"));
  } else if (metadata.name) {
    causes.push(...check("metadata.name", metadata.name));
  }
  causes.push(...validateLabels("metadata.labels", metadata?.labels));
  return causes;
}
