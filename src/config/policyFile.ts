import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { Ajv2020, type ErrorObject, type ValidateFunction } from "ajv/dist/2020.js";
import { buildPolicy, type PolicyDocument, type SandboxPolicy } from "../domain/policy/policy.js";
import { packageRoot } from "../packageRoot.js";

/** The JSON Schema of policy files, shipped as `policy/policy.schema.json`. */
export function policySchemaPath(): string {
  return join(packageRoot(), "policy", "policy.schema.json");
}

let validator: ValidateFunction | undefined;

function compiledSchema(): ValidateFunction {
  if (validator) return validator;
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  validator = ajv.compile(JSON.parse(readFileSync(policySchemaPath(), "utf8")) as object);
  return validator;
}

function describe(error: ErrorObject): string {
  const where = error.instancePath === "" ? "/" : error.instancePath;
  if (error.keyword === "additionalProperties")
    return `${where}: unknown field "${String((error.params as { additionalProperty: string }).additionalProperty)}"`;
  if (error.keyword === "required")
    return `${where}: "${String((error.params as { missingProperty: string }).missingProperty)}" is required`;
  if (error.keyword === "const")
    return `${where}: must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
  if (error.keyword === "propertyNames")
    return `${where}: property name "${String((error.params as { propertyName: string }).propertyName)}" is invalid`;
  return `${where}: ${error.message ?? "is invalid"}`;
}

/**
 * Checks a parsed policy document against the schema and the rules the
 * schema cannot express. Never throws.
 * @returns the policy, or every problem found (each prefixed with its JSON pointer).
 */
export function parsePolicy(
  document: unknown,
): { policy: SandboxPolicy; problems: [] } | { policy: undefined; problems: string[] } {
  const validate = compiledSchema();
  if (!validate(document)) {
    const problems = (validate.errors ?? [])
      // propertyNames repeats its inner error with a less useful pointer.
      .filter((e) => !(e.keyword === "pattern" && e.propertyName !== undefined))
      .map(describe);
    return { policy: undefined, problems: [...new Set(problems)] };
  }
  const { policy, problems } = buildPolicy(document as PolicyDocument);
  return problems.length > 0 ? { policy: undefined, problems } : { policy, problems: [] };
}

/**
 * Reads and validates a policy file (read once at start).
 * @returns the policy, or every problem found, each naming the file's JSON
 * pointer; the file's content is never echoed beyond field names.
 */
export function loadPolicyFile(
  path: string,
): { policy: SandboxPolicy; problems: [] } | { policy: undefined; problems: string[] } {
  let text: string;
  try {
    // Relative paths name a file of the package (as deployed: the zip's root), not of the working directory.
    text = readFileSync(isAbsolute(path) ? path : join(packageRoot(), path), "utf8");
  } catch (error) {
    return {
      policy: undefined,
      problems: [`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`],
    };
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { policy: undefined, problems: [`${path} is not valid JSON (${(error as Error).message})`] };
  }
  return parsePolicy(document);
}
