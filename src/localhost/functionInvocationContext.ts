import functionsLibrary from "@azure/functions";
import type { InvocationContext as InvocationContextType } from "@azure/functions";
import type { LogSink } from "./accessLog.js";
import type { RegisteredFunction } from "./functionRegistry.js";

// The library is a webpack CommonJS bundle whose classes Node's ESM loader
// cannot see as named exports; take them from the default export.
const { InvocationContext } = functionsLibrary;

/** The `InvocationContext` a function gets; its `context.log` lines go to `log` with the invocation id. */
export function functionInvocationContext(
  fn: RegisteredFunction,
  invocationId: string,
  log: LogSink,
): InvocationContextType {
  return new InvocationContext({
    invocationId,
    functionName: fn.name,
    options: { trigger: { ...fn.trigger, name: fn.trigger.name ?? fn.name, type: fn.trigger.type } },
    logHandler: (level, ...args) => {
      log({
        level: level === "warning" ? "warn" : level === "information" ? "info" : level,
        msg: args.map(String).join(" "),
        function: fn.name,
        invocationId,
      });
    },
  });
}
