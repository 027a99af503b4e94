import type { IncomingHttpHeaders } from "node:http";
import type { SimulatedCloud } from "../simulatedCloud.js";
import type { ArmEmulatorSettings } from "./armEmulatorSettings.js";
import type { ArmEmulatorState } from "./armEmulatorState.js";
import type { FaultInjector } from "./faultInjector.js";
import type { SwaggerValidator } from "./swaggerValidator.js";

/** A parsed request as route handlers see it. */
export interface ArmRequest {
  method: string;
  /** Path without query, as received. */
  path: string;
  /** Decoded path parameters, named as in the template. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body, or undefined when empty. */
  body: unknown;
  apiVersion: string;
  headers: IncomingHttpHeaders;
}

/** What a handler answers; the server renders headers, `Retry-After` and the log entry. */
export interface ArmResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Ask the client to wait (simulated seconds) before calling again on these paths. */
  retryAfter?: { simulatedSeconds: number; appliesTo: string[] };
}

/** Everything handlers share. */
export interface ArmContext {
  cloud: SimulatedCloud;
  settings: ArmEmulatorSettings;
  state: ArmEmulatorState;
  faults: FaultInjector;
  validator: SwaggerValidator;
  /** `https://127.0.0.1:<port>` once listening. */
  baseUrl(): string;
}

export interface ArmRoute {
  method: string;
  /** Swagger-spelled template, `{name}` = one segment; literals match case-insensitively. */
  template: string;
  /** Accepted api-versions (checked before the handler runs). */
  apiVersions: readonly string[];
  handler: (req: ArmRequest) => ArmResponse | Promise<ArmResponse>;
}
