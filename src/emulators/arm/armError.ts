/** The `error` object of an ARM error body (common-types v6 `ErrorDetail`). */
export interface ArmErrorDetail {
  code: string;
  message: string;
  target?: string;
  details?: ArmErrorDetail[];
}

/**
 * An ARM error answer: thrown by request handlers and rendered as
 * `{"error":{code,message,target?}}` with `status`.
 */
export class ArmError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ArmError";
  }

  /** The JSON body ARM sends for this error. */
  toBody(): { error: ArmErrorDetail } {
    const error: ArmErrorDetail = { code: this.code, message: this.message };
    if (this.target !== undefined) error.target = this.target;
    return { error };
  }
}

/** 400 `InvalidParameter` naming the offending field, as AKS answers validation failures. */
export function invalidParameter(target: string, message: string): ArmError {
  return new ArmError(400, "InvalidParameter", message, target);
}

/** ARM's 404 for a missing resource under an existing resource group. */
export function resourceNotFound(resourceType: string, name: string, resourceGroup: string): ArmError {
  return new ArmError(
    404,
    "ResourceNotFound",
    `The Resource '${resourceType}/${name}' under resource group '${resourceGroup}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

/** ARM's 404 for a missing resource group. */
export function resourceGroupNotFound(resourceGroup: string): ArmError {
  return new ArmError(404, "ResourceGroupNotFound", `Resource group '${resourceGroup}' could not be found.`);
}
