#!/usr/bin/env node
// One file on purpose (~630 lines): the command tree of the CLI, one short action per command, declared
// in one place so the options, help and exit codes read as the user sees them; the output, progress view
// and configuration are in cliOutput.ts and cliConfig.ts, the HTTP in the typed client.
/**
 * `aks-sandbox`: the command line of the aks-pod-sandbox API, built on the
 * typed client. Results go to stdout (`--output table|json|yaml`), progress
 * and errors to stderr. Exit codes: 0 success, 1 a failed operation or job
 * (or any other API error), 2 a usage error (also the API's InvalidRequest),
 * 3 authentication or authorization (401/403, no login).
 */
import { resolve } from "node:path";
import { Command, CommanderError, Option } from "commander";
import {
  createSandboxClient,
  isSandboxApiError,
  SandboxApiError,
  unwrap,
  type Job,
  type Operation,
  type SandboxClient,
  type TokenProvider,
} from "../../clients/typescript/src/index.js";
import { readConfig, writeConfig, type CliConfig } from "./cliConfig.js";
import { createProgress, printResult, type OutputFormat } from "./cliOutput.js";

const EXIT = { ok: 0, failed: 1, usage: 2, auth: 3 } as const;
const DEFAULT_ENDPOINT = "http://127.0.0.1:7071/api/v1";
const CLUSTER = "/v1/subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/clusters/{clusterName}";
const POOL = `${CLUSTER}/sandbox-pools/{poolName}` as const;
const JOB = `${CLUSTER}/jobs/{jobName}` as const;

interface GlobalOptions {
  endpoint?: string;
  output: OutputFormat;
  subscription?: string;
  resourceGroup?: string;
}

/** A failed operation or job: exit code 1 after its result was printed. */
class OutcomeFailed extends Error {}

let exitCode: number = EXIT.ok;

function globals(command: Command): GlobalOptions & Record<string, unknown> {
  return command.optsWithGlobals();
}

function tokenProvider(config: CliConfig): TokenProvider | undefined {
  if (process.env.AKS_SANDBOX_TOKEN) return process.env.AKS_SANDBOX_TOKEN;
  if (config.mode === "entra" && config.scope) {
    const scope = config.scope;
    return async () => {
      const identity = await import("@azure/identity");
      const credential =
        config.credential === "device-code"
          ? new identity.DeviceCodeCredential({
              ...(config.tenantId ? { tenantId: config.tenantId } : {}),
              ...(config.clientId ? { clientId: config.clientId } : {}),
            })
          : new identity.AzureCliCredential(config.tenantId ? { tenantId: config.tenantId } : {});
      const token = await credential.getToken(scope);
      return token.token;
    };
  }
  return config.token;
}

function clientFor(command: Command): SandboxClient {
  const config = readConfig();
  const token = tokenProvider(config);
  if (token === undefined)
    throw new SandboxApiError({
      status: 0,
      code: "NotLoggedIn",
      message: "Not logged in: run `aks-sandbox login` (or set AKS_SANDBOX_TOKEN).",
    });
  return createSandboxClient({
    endpoint: globals(command).endpoint ?? process.env.AKS_SANDBOX_ENDPOINT ?? config.endpoint ?? DEFAULT_ENDPOINT,
    token,
  });
}

function scope(command: Command): { subscriptionId: string; resourceGroup: string } {
  const o = globals(command);
  const config = readConfig();
  const subscriptionId = o.subscription ?? process.env.AKS_SANDBOX_SUBSCRIPTION ?? config.subscription;
  const resourceGroup = o.resourceGroup ?? process.env.AKS_SANDBOX_RESOURCE_GROUP ?? config.resourceGroup;
  if (!subscriptionId)
    throw new CommanderError(
      EXIT.usage,
      "aks-sandbox.usage",
      "error: --subscription is required (or AKS_SANDBOX_SUBSCRIPTION, or login --subscription)",
    );
  if (!resourceGroup && command.name() !== "feature")
    throw new CommanderError(
      EXIT.usage,
      "aks-sandbox.usage",
      "error: --resource-group is required (or AKS_SANDBOX_RESOURCE_GROUP, or login --resource-group)",
    );
  return { subscriptionId, resourceGroup: resourceGroup ?? "" };
}

function output(command: Command): OutputFormat {
  return globals(command).output;
}

/** Waits for the operation a 202 named (with progress), prints the final operation, fails on Failed/Canceled. */
async function settle(
  command: Command,
  client: SandboxClient,
  response: Response,
  data: unknown,
  wait: boolean,
  title: string,
): Promise<void> {
  const location = response.status === 202 ? response.headers.get("operation-location") : null;
  if (!location || !wait) {
    printResult(data, output(command));
    return;
  }
  const progress = createProgress(title);
  let last: Operation | undefined;
  try {
    last = await client.waitForOperation(location, {
      onProgress: (op) => ((last = op), progress.update(op)),
      throwOnFailure: false,
    });
  } catch (error) {
    progress.done(last, true);
    throw error;
  }
  const failed = last.status !== "Succeeded";
  progress.done(last, failed);
  printResult(last, output(command));
  if (failed)
    throw new OutcomeFailed(
      `${last.error?.code ?? last.status}: ${last.error?.message ?? `operation ${last.id} ended ${last.status}`}`,
    );
}

/** `?team=` when the caller named the job's team (an Admin, for a name several teams use). */
function teamQuery(o: { team?: string }): { team?: string } {
  return o.team !== undefined ? { team: o.team } : {};
}

async function followLog(
  client: SandboxClient,
  ref: { subscriptionId: string; resourceGroup: string; clusterName: string; jobName: string },
  team?: string,
): Promise<Job | undefined> {
  let job: Job | undefined;
  for await (const event of client.followJobLog(ref, team !== undefined ? { team } : {})) {
    if (event.type === "line") process.stdout.write(`${event.text}\n`);
    else job = event.job;
  }
  return job;
}

function buildProgram(): Command {
  const program = new Command("aks-sandbox");
  program
    .description(
      "Self-service AKS Pod Sandboxing from a shell: feature, clusters, sandbox pools, untrusted jobs, isolation checks, operations.",
    )
    .exitOverride()
    .showHelpAfterError()
    .option("--endpoint <url>", `API root (default: login's, AKS_SANDBOX_ENDPOINT, ${DEFAULT_ENDPOINT})`)
    .addOption(new Option("-o, --output <format>", "output format").choices(["table", "json", "yaml"]).default("table"))
    .option("-s, --subscription <id>", "subscription id (default: login's, AKS_SANDBOX_SUBSCRIPTION)")
    .option("-g, --resource-group <name>", "resource group (default: login's, AKS_SANDBOX_RESOURCE_GROUP)");

  program
    .command("login")
    .description(
      "Save the endpoint and credentials. Simulated Azure: a token from the local issuer of `npm start`; Entra: device code or Azure CLI credential for the API's scope.",
    )
    .option("--entra", "use Entra ID instead of the local issuer")
    .option("--scope <scope>", "Entra: the API's scope, e.g. api://<app-id>/.default")
    .addOption(
      new Option("--credential <kind>", "Entra credential").choices(["device-code", "azure-cli"]).default("azure-cli"),
    )
    .option("--tenant <id>", "Entra tenant")
    .option("--client-id <id>", "Entra: public client app for the device code flow")
    .option("--data-dir <dir>", "simulated: the data dir of `npm start` (default SANDBOX_DATA_DIR or ./.data)")
    .option("--team <team>", "simulated: the token's team", "alpha")
    .option("--roles <roles>", "simulated: comma-separated app roles", "Sandbox.Admin")
    .option("--name <name>", "simulated: the token's display name", "aks-sandbox CLI")
    .action(async (_options: unknown, command: Command) => {
      const o = globals(command);
      const config: CliConfig = {
        ...readConfig(),
        endpoint: o.endpoint ?? process.env.AKS_SANDBOX_ENDPOINT ?? DEFAULT_ENDPOINT,
      };
      if (o.subscription) config.subscription = o.subscription;
      if (o.resourceGroup) config.resourceGroup = o.resourceGroup;
      if (o.entra) {
        if (typeof o.scope !== "string")
          throw new CommanderError(
            EXIT.usage,
            "aks-sandbox.usage",
            "error: login --entra needs --scope api://<app-id>/.default",
          );
        Object.assign(config, {
          mode: "entra",
          scope: o.scope,
          credential: o.credential,
          token: undefined,
          tenantId: o.tenant,
          clientId: o.clientId,
        });
      } else {
        // The local issuer exists only for simulated Azure; its key lives in npm start's data dir.
        const { LocalTokenIssuer } = await import("../localhost/localTokenIssuer.js");
        const issuer = await LocalTokenIssuer.open(
          resolve(typeof o.dataDir === "string" ? o.dataDir : (process.env.SANDBOX_DATA_DIR ?? ".data")),
        );
        const roles = String(o.roles)
          .split(",")
          .map((r) => r.trim())
          .filter(Boolean);
        Object.assign(config, {
          mode: "simulated",
          token: await issuer.mint({ team: String(o.team), roles, name: String(o.name) }),
          scope: undefined,
        });
      }
      writeConfig(config);
      const me = await unwrap(
        createSandboxClient({ endpoint: config.endpoint!, token: tokenProvider(config)! }).api.GET("/v1/whoami"),
      );
      printResult(me, output(command));
    });

  const feature = program.command("feature").description("The Pod Sandboxing feature of a subscription");
  feature
    .command("register")
    .description("Register the preview feature and re-register Microsoft.ContainerService")
    .option("--wait", "wait for the operation, showing progress")
    .action(async (o: { wait?: boolean }, command: Command) => {
      const client = clientFor(command);
      const { subscriptionId } = scope(command);
      const result = await client.api.PUT("/v1/subscriptions/{subscriptionId}/sandbox-feature", {
        params: { path: { subscriptionId } },
      });
      await settle(
        command,
        client,
        result.response,
        await unwrap(Promise.resolve(result)),
        o.wait === true,
        "Registering the sandbox feature",
      );
    });
  feature
    .command("get")
    .description("The feature's and the provider's registration state")
    .action(async (_o: unknown, command: Command) => {
      const client = clientFor(command);
      printResult(
        await unwrap(
          client.api.GET("/v1/subscriptions/{subscriptionId}/sandbox-feature", {
            params: { path: { subscriptionId: scope(command).subscriptionId } },
          }),
        ),
        output(command),
      );
    });

  const cluster = program.command("cluster").description("AKS clusters that run the sandbox runtime");
  cluster
    .command("create <name>")
    .requiredOption("-l, --location <region>", "Azure region")
    .option("--vm-size <size>", "system pool VM size")
    .option("--node-count <n>", "system pool nodes", (v) => Number.parseInt(v, 10))
    .option("--kubernetes-version <version>")
    .option("--wait", "wait for the operation, showing progress")
    .action(
      async (
        name: string,
        o: { location: string; vmSize?: string; nodeCount?: number; kubernetesVersion?: string; wait?: boolean },
        command: Command,
      ) => {
        const client = clientFor(command);
        const body = {
          location: o.location,
          ...(o.vmSize ? { nodeVmSize: o.vmSize } : {}),
          ...(o.nodeCount !== undefined ? { nodeCount: o.nodeCount } : {}),
          ...(o.kubernetesVersion ? { kubernetesVersion: o.kubernetesVersion } : {}),
        };
        const result = await client.api.PUT(CLUSTER, {
          params: { path: { ...scope(command), clusterName: name } },
          body,
        });
        await settle(
          command,
          client,
          result.response,
          await unwrap(Promise.resolve(result)),
          o.wait === true,
          `Creating cluster ${name}`,
        );
      },
    );
  cluster.command("get <name>").action(async (name: string, _o: unknown, command: Command) => {
    const client = clientFor(command);
    printResult(
      await unwrap(client.api.GET(CLUSTER, { params: { path: { ...scope(command), clusterName: name } } })),
      output(command),
    );
  });
  cluster
    .command("delete <name>")
    .option("--wait", "wait for the operation, showing progress")
    .action(async (name: string, o: { wait?: boolean }, command: Command) => {
      const client = clientFor(command);
      const result = await client.api.DELETE(CLUSTER, { params: { path: { ...scope(command), clusterName: name } } });
      await settle(
        command,
        client,
        result.response,
        (await unwrap(Promise.resolve(result))) ?? { status: "Deleted" },
        o.wait === true,
        `Deleting cluster ${name}`,
      );
    });

  const pool = program.command("pool").description("Sandbox node pools of a cluster");
  const poolPath = (command: Command, clusterName: string, poolName: string) => ({
    ...scope(command),
    clusterName,
    poolName,
  });
  pool
    .command("put <pool>")
    .description("Create or scale a sandbox pool")
    .requiredOption("-c, --cluster <name>", "cluster")
    .requiredOption("--vm-size <size>", "VM size (generation 2, nested virtualization)")
    .option("--node-count <n>", "nodes", (v) => Number.parseInt(v, 10), 1)
    .option("--dry-run", "run the preflight only, change nothing")
    .option("--wait", "wait for the operation, showing progress")
    .action(
      async (
        name: string,
        o: { cluster: string; vmSize: string; nodeCount: number; dryRun?: boolean; wait?: boolean },
        command: Command,
      ) => {
        const client = clientFor(command);
        const result = await client.api.PUT(POOL, {
          params: { path: poolPath(command, o.cluster, name), query: o.dryRun ? { dryRun: true } : {} },
          body: { vmSize: o.vmSize, nodeCount: o.nodeCount },
        });
        await settle(
          command,
          client,
          result.response,
          await unwrap(Promise.resolve(result)),
          o.wait === true,
          `Sandbox pool ${name}`,
        );
      },
    );
  pool
    .command("get <pool>")
    .requiredOption("-c, --cluster <name>", "cluster")
    .action(async (name: string, o: { cluster: string }, command: Command) => {
      const client = clientFor(command);
      printResult(
        await unwrap(client.api.GET(POOL, { params: { path: poolPath(command, o.cluster, name) } })),
        output(command),
      );
    });
  pool
    .command("list")
    .requiredOption("-c, --cluster <name>", "cluster")
    .action(async (o: { cluster: string }, command: Command) => {
      const client = clientFor(command);
      const list = await unwrap(
        client.api.GET(`${CLUSTER}/sandbox-pools`, { params: { path: { ...scope(command), clusterName: o.cluster } } }),
      );
      printResult(output(command) === "table" ? (list.value ?? []) : list, output(command), [
        "name",
        "vmSize",
        "nodeCount",
        "provisioningState",
      ]);
    });
  pool
    .command("delete <pool>")
    .requiredOption("-c, --cluster <name>", "cluster")
    .option("--dry-run", "not supported for delete; refused")
    .option("--wait", "wait for the operation, showing progress")
    .action(async (name: string, o: { cluster: string; dryRun?: boolean; wait?: boolean }, command: Command) => {
      if (o.dryRun)
        throw new CommanderError(
          EXIT.usage,
          "aks-sandbox.usage",
          "error: pool delete has no --dry-run (the API offers dry runs for put only)",
        );
      const client = clientFor(command);
      const result = await client.api.DELETE(POOL, { params: { path: poolPath(command, o.cluster, name) } });
      await settle(
        command,
        client,
        result.response,
        (await unwrap(Promise.resolve(result))) ?? { status: "Deleted" },
        o.wait === true,
        `Deleting sandbox pool ${name}`,
      );
    });

  const job = program.command("job").description("Untrusted jobs in Kata VM sandboxes");
  const jobRef = (command: Command, clusterName: string, jobName: string) => ({
    ...scope(command),
    clusterName,
    jobName,
  });
  job
    .command("run")
    .description("Submit a job: aks-sandbox job run -c <cluster> --image <image> [--name n] [-- command args…]")
    .requiredOption("-c, --cluster <name>", "cluster")
    .requiredOption("--image <image>", "container image")
    .option("--name <name>", "job name (generated when omitted)")
    .addOption(new Option("--isolation <kind>", "sandbox (Kata VM) or none (Operators)").choices(["sandbox", "none"]))
    .option("--timeout <seconds>", "timeoutSeconds", (v) => Number.parseInt(v, 10))
    .option("--wait", "wait until the job ends")
    .option("--follow", "print the job's log as it runs (implies --wait)")
    .argument("[command...]", "command and arguments (after --)")
    .action(
      async (
        argv: string[],
        o: {
          cluster: string;
          image: string;
          name?: string;
          isolation?: "sandbox" | "none";
          timeout?: number;
          wait?: boolean;
          follow?: boolean;
        },
        command: Command,
      ) => {
        const client = clientFor(command);
        const path = { ...scope(command), clusterName: o.cluster };
        const body = {
          image: o.image,
          ...(o.name ? { name: o.name } : {}),
          ...(argv.length > 0 ? { command: argv } : {}),
          ...(o.isolation ? { isolation: o.isolation } : {}),
          ...(o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {}),
        };
        const submitted = await unwrap(client.api.POST(`${CLUSTER}/jobs`, { params: { path }, body }));
        const name = submitted.name ?? "";
        if (!o.wait && !o.follow) {
          printResult(submitted, output(command));
          return;
        }
        let final: Job | undefined;
        if (o.follow) {
          final = await followLog(client, { ...path, jobName: name });
        } else {
          const progress = createProgress(`Job ${name}`);
          for (;;) {
            final = await unwrap(client.api.GET(JOB, { params: { path: { ...path, jobName: name } } }));
            progress.note(String(final.status));
            if (!["Pending", "Running"].includes(String(final.status))) break;
            await new Promise((r) => setTimeout(r, 1000));
          }
          progress.done(undefined, final.status !== "Succeeded");
        }
        if (!o.follow || output(command) !== "table") printResult(final ?? submitted, output(command));
        else
          process.stderr.write(
            `job ${name}: ${final?.status ?? "unknown"}${final?.exitCode !== undefined ? ` (exit code ${final.exitCode})` : ""}\n`,
          );
        if (final?.status !== "Succeeded")
          throw new OutcomeFailed(
            `job ${name} ended ${final?.status ?? "unknown"}${final?.reason ? ` (${final.reason})` : ""}`,
          );
      },
    );
  job
    .command("get <name>")
    .requiredOption("-c, --cluster <name>", "cluster")
    .option("--team <team>", "Admin: the job's team (needed when several teams use the name)")
    .action(async (name: string, o: { cluster: string; team?: string }, command: Command) => {
      const client = clientFor(command);
      printResult(
        await unwrap(client.api.GET(JOB, { params: { path: jobRef(command, o.cluster, name), query: teamQuery(o) } })),
        output(command),
      );
    });
  job
    .command("logs <name>")
    .requiredOption("-c, --cluster <name>", "cluster")
    .option("-f, --follow", "stream the log until the job ends")
    .option("--tail <lines>", "last lines only", (v) => Number.parseInt(v, 10))
    .option("--team <team>", "Admin: the job's team (needed when several teams use the name)")
    .action(
      async (
        name: string,
        o: { cluster: string; follow?: boolean; tail?: number; team?: string },
        command: Command,
      ) => {
        const client = clientFor(command);
        const ref = jobRef(command, o.cluster, name);
        if (o.follow) {
          await followLog(client, ref, o.team);
          return;
        }
        const text = await unwrap(
          client.api.GET(`${JOB}/logs`, {
            params: { path: ref, query: { ...teamQuery(o), ...(o.tail !== undefined ? { tailLines: o.tail } : {}) } },
            parseAs: "text",
          }),
        );
        process.stdout.write(String(text));
      },
    );
  job
    .command("cancel <name>")
    .requiredOption("-c, --cluster <name>", "cluster")
    .option("--team <team>", "Admin: the job's team (needed when several teams use the name)")
    .action(async (name: string, o: { cluster: string; team?: string }, command: Command) => {
      const client = clientFor(command);
      printResult(
        await unwrap(
          client.api.DELETE(JOB, { params: { path: jobRef(command, o.cluster, name), query: teamQuery(o) } }),
        ),
        output(command),
      );
    });
  job
    .command("list")
    .option("-c, --cluster <name>", "only this cluster")
    .option("--status <status>", "only this status")
    .action(async (o: { cluster?: string; status?: Job["status"] }, command: Command) => {
      const client = clientFor(command);
      const jobs: Job[] = [];
      for await (const j of client.listJobs({
        ...(o.cluster ? { cluster: o.cluster } : {}),
        ...(o.status ? { status: o.status } : {}),
      }))
        jobs.push(j);
      printResult(jobs, output(command), ["name", "status", "isolation", "exitCode", "cluster"]);
    });

  program
    .command("isolation")
    .description("Isolation proof")
    .command("check")
    .description("Run uname -r in a sandboxed and a trusted pod on the same sandbox node and compare the kernels")
    .requiredOption("-c, --cluster <name>", "cluster")
    .option("--wait", "wait for the verdict, showing progress")
    .action(async (o: { cluster: string; wait?: boolean }, command: Command) => {
      const client = clientFor(command);
      const result = await client.api.POST(`${CLUSTER}/isolation-checks`, {
        params: { path: { ...scope(command), clusterName: o.cluster } },
      });
      await settle(
        command,
        client,
        result.response,
        await unwrap(Promise.resolve(result)),
        o.wait === true,
        `Isolation check on ${o.cluster}`,
      );
    });

  const op = program.command("op").description("Long-running operations");
  op.command("get <id>").action(async (id: string, _o: unknown, command: Command) => {
    printResult(
      await unwrap(
        clientFor(command).api.GET("/v1/operations/{operationId}", { params: { path: { operationId: id } } }),
      ),
      output(command),
    );
  });
  op.command("list")
    .option("--status <status>")
    .option("--kind <kind>")
    .action(async (o: { status?: Operation["status"]; kind?: Operation["kind"] }, command: Command) => {
      const ops: Operation[] = [];
      for await (const item of clientFor(command).listOperations({
        ...(o.status ? { status: o.status } : {}),
        ...(o.kind ? { kind: o.kind } : {}),
      }))
        ops.push(item);
      printResult(ops, output(command), ["id", "kind", "status", "percentComplete", "target"]);
    });
  op.command("wait <id>").action(async (id: string, _o: unknown, command: Command) => {
    const client = clientFor(command);
    const progress = createProgress(`Operation ${id}`);
    const final = await client.waitForOperation(id, { onProgress: (x) => progress.update(x), throwOnFailure: false });
    progress.done(final, final.status !== "Succeeded");
    printResult(final, output(command));
    if (final.status !== "Succeeded")
      throw new OutcomeFailed(
        `${final.error?.code ?? final.status}: ${final.error?.message ?? `operation ${id} ended ${final.status}`}`,
      );
  });
  op.command("cancel <id>").action(async (id: string, _o: unknown, command: Command) => {
    printResult(
      await unwrap(
        clientFor(command).api.POST("/v1/operations/{operationId}/cancel", { params: { path: { operationId: id } } }),
      ),
      output(command),
    );
  });
  return program;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof OutcomeFailed) return EXIT.failed;
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (isSandboxApiError(error)) {
    if (
      error.status === 401 ||
      error.status === 403 ||
      error.code === "NotLoggedIn" ||
      error.code === "Unauthorized" ||
      error.code === "Forbidden"
    )
      return EXIT.auth;
    if (error.code === "InvalidRequest") return EXIT.usage;
  }
  return EXIT.failed;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (error) {
    exitCode = exitCodeOf(error);
    if (error instanceof CommanderError) {
      // commander printed usage errors and help already; our own usage errors carry their message.
      if (error.code === "aks-sandbox.usage") process.stderr.write(`${error.message}\n`);
    } else if (isSandboxApiError(error)) {
      const details = error.details
        .map((d) => `\n  - ${d.code}${d.target ? ` (${d.target})` : ""}: ${d.message}`)
        .join("");
      process.stderr.write(
        `error: ${error.code}: ${error.message}${error.target ? ` [target: ${error.target}]` : ""}${details}${error.requestId ? `\n  x-ms-request-id: ${error.requestId}` : ""}\n`,
      );
    } else {
      process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  }
  process.exitCode = exitCode;
}

await main();
