/** What the Azure Functions host receives from `@azure/functions` per registration. */
export interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, CoreBinding>;
  retryOptions?: unknown;
}

export interface CoreBinding {
  type: string;
  direction: "in" | "out";
  name?: string;
  route?: string;
  methods?: string[];
  authLevel?: "anonymous" | "function" | "admin";
  schedule?: string;
  runOnStartup?: boolean;
  useMonitor?: boolean;
  [key: string]: unknown;
}

export type CoreHandler = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  readonly name: string;
  readonly metadata: CoreFunctionMetadata;
  readonly handler: CoreHandler;
  /** The trigger binding (the one whose type ends with `Trigger`). */
  readonly trigger: CoreBinding;
}

/** Registrations recorded from `app.http` / `app.timer` calls, in order. */
export class FunctionRegistry {
  readonly #functions = new Map<string, RegisteredFunction>();
  readonly #hooks = new Map<string, ((context: unknown) => unknown)[]>();
  /** What `@azure/functions` passed to `setProgrammingModel` (its worker-facing model). */
  programmingModel: unknown;

  /** Records a registration. Names are case-insensitive and unique, as in the Functions host. */
  register(metadata: CoreFunctionMetadata, handler: CoreHandler): void {
    const key = metadata.name.toLowerCase();
    if (this.#functions.has(key)) throw new Error(`A function named "${metadata.name}" is already registered`);
    const trigger = Object.values(metadata.bindings).find((b) => /trigger$/i.test(b.type));
    if (!trigger) throw new Error(`Function "${metadata.name}" has no trigger binding`);
    this.#functions.set(key, { name: metadata.name, metadata, handler, trigger });
  }

  registerHook(name: string, callback: (context: unknown) => unknown): void {
    const list = this.#hooks.get(name) ?? [];
    list.push(callback);
    this.#hooks.set(name, list);
  }

  hooks(name: string): readonly ((context: unknown) => unknown)[] {
    return this.#hooks.get(name) ?? [];
  }

  get(name: string): RegisteredFunction | undefined {
    return this.#functions.get(name.toLowerCase());
  }

  all(): RegisteredFunction[] {
    return [...this.#functions.values()];
  }

  http(): RegisteredFunction[] {
    return this.all().filter((f) => f.trigger.type.toLowerCase() === "httptrigger");
  }

  timers(): RegisteredFunction[] {
    return this.all().filter((f) => f.trigger.type.toLowerCase() === "timertrigger");
  }
}
