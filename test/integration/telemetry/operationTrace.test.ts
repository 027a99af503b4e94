// test: own process (sets the global OpenTelemetry tracer provider and context manager)
// One trace follows a sandbox pool creation from the caller's traceparent
// through the request span, every operation step tick — also those a timer on
// another instance runs (linked to that timer's span) — and every ARM call.
// Spans are captured with the in-memory exporter.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { context, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ArmClientFactory } from "../../../src/adapters/arm/armClients.js";
import { AzureArmOperations } from "../../../src/adapters/arm/azureArmOperations.js";
import { OperationEngine } from "../../../src/domain/operations/operationEngine.js";
import { OperationKindRegistry } from "../../../src/domain/operations/operationKinds.js";
import { createSandboxPoolKind } from "../../../src/domain/operations/kinds/sandboxPoolKinds.js";
import type { TableOperationStore } from "../../../src/adapters/tables/operationTable.js";
import { callerContext, inSpan, otelOperationTracing, SpanKind } from "../../../src/telemetry/tracing.js";
import { formatLogLine } from "../../../src/telemetry/jsonLog.js";
import { createPoolRequest, poolRef, startEngineHarness, type EngineHarness } from "../../support/engineHarness.js";
import { createReadyCluster, staticCredential } from "../../support/armTestSupport.js";

const exporter = new InMemorySpanExporter();
let harness: EngineHarness;

before(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  harness = await startEngineHarness();
});
after(async () => {
  await harness?.close();
  trace.disable();
  context.disable();
});

function engine(store: TableOperationStore, instanceId: string): OperationEngine {
  const clients = new ArmClientFactory(
    { armEndpoint: harness.arm.arm.url, simulate: true, simulatedCaCertPath: undefined, azureAuthorityHost: undefined },
    { credential: staticCredential, httpClient: harness.arm.clientOptions.httpClient },
  );
  return new OperationEngine({
    store,
    arm: new AzureArmOperations(clients),
    kinds: new OperationKindRegistry([createSandboxPoolKind()]),
    settings: { scale: harness.scale, armBudgetPerMinute: 100_000, claimMs: 5000, passMs: 400 },
    instanceId,
    tracing: otelOperationTracing,
  });
}

test(
  "one trace spans the request, the operation's step ticks on another instance, and the ARM calls",
  { timeout: 120_000 },
  async () => {
    const store = harness.newStore();
    const portal = engine(store, "instance-a");
    const timer = engine(store, "instance-b");
    const callerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const headers = new Headers({ traceparent: `00-${callerTraceId}-00f067aa0ba902b7-01` });

    await createReadyCluster(harness.arm, "rg-ops", "trace1");
    const pool = poolRef("trace1", "kata");
    const op = await inSpan(
      "HTTP putSandboxPool",
      { kind: SpanKind.SERVER, parent: callerContext(headers) },
      async () => {
        const line = JSON.parse(formatLogLine({ msg: "submitting" })) as { traceId?: string };
        assert.equal(line.traceId, callerTraceId, "log lines carry the trace id");
        return portal.submit(createPoolRequest(pool));
      },
    );
    assert.ok(
      (await store.get(op.id))!.record.traceparent?.includes(callerTraceId),
      "the row keeps the caller's trace",
    );

    // Another instance's timer finishes it.
    const deadline = Date.now() + 90_000;
    for (;;) {
      const record = (await store.get(op.id))!.record;
      if (["Succeeded", "Failed", "Canceled"].includes(record.status)) break;
      assert.ok(Date.now() < deadline, `not done: ${record.status} ${JSON.stringify(record.lastError)}`);
      await inSpan("timer reconcileOperations", { parent: ROOT_CONTEXT }, () => timer.reconcile());
    }

    const spans = exporter.getFinishedSpans();
    const request = spans.find((s) => s.name === "HTTP putSandboxPool")!;
    const ticks = spans.filter(
      (s) => s.name === "operation.tick CreateSandboxPool" && s.attributes["operation.id"] === op.id,
    );
    const timers = spans.filter((s) => s.name === "timer reconcileOperations");
    const tickIds = new Set(ticks.map((t) => t.spanContext().spanId));
    const arm = spans.filter((s) => s.name.startsWith("ARM ") && tickIds.has(s.parentSpanContext?.spanId ?? ""));
    assert.equal(request.spanContext().traceId, callerTraceId);
    assert.ok(ticks.length >= 2, `ticks: ${ticks.length}`);
    assert.ok(arm.length >= 2, `ARM spans under ticks: ${arm.length}`);
    for (const s of [...ticks, ...arm])
      assert.equal(s.spanContext().traceId, callerTraceId, `${s.name} is in another trace`);
    // Ticks run by the timer are linked to the timer's span (its own trace).
    const timerTraceIds = new Set(timers.map((t) => t.spanContext().traceId));
    const linked = ticks.filter((t) => t.links.some((l) => timerTraceIds.has(l.context.traceId)));
    assert.ok(linked.length >= 1, "no tick links to the timer pass that ran it");
    assert.ok(!timerTraceIds.has(callerTraceId));
    // ARM spans carry the request id that ARM sees as x-ms-correlation-request-id.
    for (const s of arm) assert.equal(s.attributes["request.id"], op.correlationId);
  },
);
