/**
 * Container logs as the kubelet keeps and serves them: the simulated kubelet
 * writes lines, `GET …/pods/{name}/log` reads them (tail, since, limit,
 * timestamps, previous) or follows them until the container ends.
 */
import type { ClusterState, LogLine, PodRecord } from "./clusterState.js";
import { KubernetesApiError } from "./kubernetesApiError.js";
import type { PodSpec } from "./kubernetesObjects.js";

const MAX_LOG_LINES = 20_000;

/** Options of {@link PodLogs.read}. */
export interface LogOptions {
  container?: string;
  tailLines?: number;
  limitBytes?: number;
  timestamps?: boolean;
  previous?: boolean;
  sinceSeconds?: number;
}

export class PodLogs {
  constructor(private readonly state: ClusterState) {}

  /** Reads a container's log as the kubelet would serve it (`text/plain`). */
  read(namespace: string, name: string, options: LogOptions): string {
    const { rec, container } = this.#target(namespace, name, options);
    const logs = rec.logs.get(container);
    let lines = options.previous ? logs?.previous : logs?.current;
    if (options.previous && !lines)
      throw KubernetesApiError.badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    lines ??= [];
    if (options.sinceSeconds !== undefined) {
      const since = this.state.nowMs() - options.sinceSeconds * 1000;
      lines = lines.filter((l) => l.timeMs >= since);
    }
    if (options.tailLines !== undefined) lines = options.tailLines <= 0 ? [] : lines.slice(-options.tailLines);
    let text = lines.map((l) => formatLogLine(l, options.timestamps === true)).join("");
    if (options.limitBytes !== undefined) text = Buffer.from(text).subarray(0, options.limitBytes).toString();
    return text;
  }

  /**
   * Follows a container log: `onLine` gets the existing lines (after
   * `tailLines`) then new ones; `onEnd` fires when the container stops or the
   * pod goes away. Returns an unsubscribe function.
   */
  follow(
    namespace: string,
    name: string,
    options: LogOptions,
    onText: (text: string) => void,
    onEnd: () => void,
  ): () => void {
    const { rec, container } = this.#target(namespace, name, options);
    const initial = this.read(namespace, name, { ...options, limitBytes: undefined });
    if (initial) onText(initial);
    const status = rec.pod.status?.containerStatuses?.find((c) => c.name === container);
    if (rec.removed || (status?.state.terminated && !willRestart(rec.pod.spec, status.state.terminated.exitCode))) {
      onEnd();
      return () => undefined;
    }
    const listener = (c: string, line: LogLine | null) => {
      if (c !== container) return;
      if (line) onText(formatLogLine(line, options.timestamps === true));
      else {
        rec.logListeners.delete(listener);
        onEnd();
      }
    };
    rec.logListeners.add(listener);
    return () => rec.logListeners.delete(listener);
  }

  /** Appends a line to a container's current log and hands it to the followers. */
  write(rec: PodRecord, container: string, text: string): void {
    const logs = rec.logs.get(container);
    if (!logs) return;
    const line = { timeMs: this.state.nowMs(), text };
    logs.current.push(line);
    if (logs.current.length > MAX_LOG_LINES) logs.current.splice(0, logs.current.length - MAX_LOG_LINES);
    for (const listener of rec.logListeners) listener(container, line);
  }

  #target(namespace: string, name: string, options: LogOptions): { rec: PodRecord; container: string } {
    const rec = this.state.podRecord(namespace, name);
    const names = rec.pod.spec.containers.map((c) => c.name);
    let container = options.container;
    if (container === undefined || container === "") {
      if (names.length !== 1)
        throw KubernetesApiError.badRequest(
          `a container name must be specified for pod ${name}, choose one of: [${names.join(" ")}]`,
        );
      container = names[0] ?? "";
    }
    if (!names.includes(container))
      throw KubernetesApiError.badRequest(`container ${container} is not valid for pod ${name}`);
    const status = rec.pod.status?.containerStatuses?.find((c) => c.name === container);
    const logs = rec.logs.get(container);
    if (
      !options.previous &&
      (!status || (status.state.waiting && !status.lastState.terminated && (logs?.current.length ?? 0) === 0))
    ) {
      const reason = status?.state.waiting?.reason ?? "ContainerCreating";
      const why =
        reason === "ErrImagePull" || reason === "ImagePullBackOff" ? "trying and failing to pull image" : reason;
      throw KubernetesApiError.badRequest(`container "${container}" in pod "${name}" is waiting to start: ${why}`);
    }
    return { rec, container };
  }
}

export function willRestart(spec: PodSpec, exitCode: number): boolean {
  return spec.restartPolicy === "Always" || (spec.restartPolicy === "OnFailure" && exitCode !== 0);
}

function formatLogLine(line: LogLine, timestamps: boolean): string {
  return timestamps
    ? `${new Date(line.timeMs).toISOString().replace("Z", "000000Z")} ${line.text}\n`
    : `${line.text}\n`;
}
