import { createRequire } from "node:module";
import Module from "node:module";
import { FunctionRegistry, type CoreFunctionMetadata, type CoreHandler } from "./functionRegistry.js";

const CORE_MODULE = "@azure/functions-core";
// A path that cannot collide with a real file; require.cache is keyed by it.
const CORE_MODULE_ID = "/__aks_pod_sandbox_localhost__/@azure/functions-core.js";

let installed: FunctionRegistry | undefined;

/**
 * Makes `require("@azure/functions-core")` — which `@azure/functions` calls
 * to find the Functions runtime — answer with a small core API that records
 * registrations in a {@link FunctionRegistry}. Without it the library falls
 * back to its "test mode" and silently drops every `app.http` call.
 *
 * Must run before the first `app.*` call. Idempotent: returns the same
 * registry on every call in a process.
 */
export function installFunctionsCore(): FunctionRegistry {
  if (installed) return installed;
  const registry = new FunctionRegistry();
  const coreApi = {
    version: "4.0.0-aks-pod-sandbox-localhost",
    hostVersion: "4.0.0-aks-pod-sandbox-localhost",
    setProgrammingModel(model: unknown): void {
      // The local host invokes handlers directly with real HttpRequest /
      // InvocationContext objects; the model is kept so tests can drive the
      // library's own worker path (RPC in, RPC out) as the Azure host does.
      registry.programmingModel = model;
    },
    getProgrammingModel(): unknown {
      return registry.programmingModel;
    },
    registerFunction(metadata: CoreFunctionMetadata, handler: CoreHandler): { dispose(): void } {
      registry.register(metadata, handler);
      return { dispose: () => undefined };
    },
    registerHook(hookName: string, callback: (context: unknown) => unknown): { dispose(): void } {
      registry.registerHook(hookName, callback);
      return { dispose: () => undefined };
    },
    log(level: string, category: string, message: string): void {
      if (level === "error" || level === "critical") console.error(`[functions:${category}] ${message}`);
      else if (level !== "debug" && level !== "trace") console.log(`[functions:${category}] ${message}`);
    },
  };

  const mod = new Module(CORE_MODULE_ID);
  mod.filename = CORE_MODULE_ID;
  mod.loaded = true;
  mod.exports = coreApi;
  const require = createRequire(import.meta.url);
  require.cache[CORE_MODULE_ID] = mod;

  const moduleWithResolver = Module as unknown as {
    _resolveFilename: (request: string, ...rest: unknown[]) => string;
  };
  const originalResolve = moduleWithResolver._resolveFilename;
  moduleWithResolver._resolveFilename = function resolveFunctionsCore(request: string, ...rest: unknown[]): string {
    if (request === CORE_MODULE) return CORE_MODULE_ID;
    return originalResolve.call(this, request, ...rest);
  };
  installed = registry;
  return registry;
}
