/**
 * The simulated kubelet of a cluster: it takes an admitted pod, waits for the
 * scheduler to find a node, creates the (Kata) sandbox, runs each container's
 * program (or the outcome script a test queued) with restarts, back-off,
 * image-pull failures, network reachability, ephemeral-storage eviction, and
 * terminates pods on delete. Every status change is reported to
 * `onPodChanged` (the job controller reconciles the owning Job).
 */
import { randomInt, randomUUID } from "node:crypto";
import { copy, podKey, PodKilled, type ClusterState, type ContainerLogs, type PodRecord } from "./clusterState.js";
import {
  k8sTime,
  type Condition,
  type ContainerSpec,
  type ContainerStatus,
  type PodObject,
  type PodSpec,
} from "./kubernetesObjects.js";
import type { NamespacedObjectStore } from "./namespacedObjectStore.js";
import type { OutcomeScript, OutcomeScripts } from "./outcomeScripts.js";
import { parseQuantity } from "./parseQuantity.js";
import { willRestart, type PodLogs } from "./podLogs.js";
import { isSandboxed, schedulePod } from "./schedulePod.js";
import { connectFromPod } from "./connectFromPod.js";
import { parseContainerProgram, runProgram } from "./simulatedCommand.js";

export class SimulatedKubelet {
  constructor(
    private readonly state: ClusterState,
    private readonly objects: NamespacedObjectStore,
    private readonly scripts: OutcomeScripts,
    private readonly logs: PodLogs,
    /** Called whenever a pod's status or existence changed (the job controller reconciles its owner). */
    private readonly onPodChanged: (rec: PodRecord) => void,
  ) {}

  /** Registers an admitted pod and starts its simulated lifecycle. */
  startPod(pod: PodObject): PodObject {
    const rec: PodRecord = {
      pod,
      logs: new Map(pod.spec.containers.map((c) => [c.name, { current: [], previous: undefined }])),
      kill: new AbortController(),
      wake: new AbortController(),
      logListeners: new Set(),
      node: undefined,
      removed: false,
      diskBytes: 0,
      evicted: undefined,
      token: this.#mountsToken(pod) ? `simulated-sa-token-${randomUUID()}` : undefined,
    };
    this.state.pods.set(podKey(pod), rec);
    this.#runPod(rec).catch(() => undefined);
    return pod;
  }

  /** Puts back a terminal pod saved by a previous run (no process runs). */
  restorePod(pod: PodObject, logs: Record<string, ContainerLogs>): void {
    const rec: PodRecord = {
      pod: copy(pod),
      logs: new Map(Object.entries(logs).map(([c, l]) => [c, copy(l)])),
      kill: new AbortController(),
      wake: new AbortController(),
      logListeners: new Set(),
      node: this.state.nodes().find((n) => n.name === pod.spec.nodeName),
      removed: false,
      diskBytes: 0,
      evicted: undefined,
      token: undefined,
    };
    this.state.pods.set(podKey(pod), rec);
  }

  /** Wakes pods waiting to be scheduled (the cloud's pools changed). */
  poke(): void {
    for (const rec of this.state.pods.values()) rec.wake.abort();
  }

  /**
   * The pod turns `Terminating` (deletionTimestamp set, processes killed)
   * and disappears after the grace period (capped by
   * `settings.terminationSeconds`). Idempotent while terminating.
   */
  terminatePod(rec: PodRecord, gracePeriodSeconds?: number): void {
    if (rec.pod.metadata.deletionTimestamp || rec.removed) return;
    const grace = gracePeriodSeconds ?? rec.pod.spec.terminationGracePeriodSeconds ?? 30;
    const terminal = rec.pod.status?.phase === "Succeeded" || rec.pod.status?.phase === "Failed";
    const wait = terminal || !rec.node ? 0 : Math.min(grace, this.state.settings.terminationSeconds);
    rec.pod.metadata.deletionTimestamp = k8sTime(this.state.nowMs() + grace * 1000);
    rec.pod.metadata.deletionGracePeriodSeconds = grace;
    this.state.bump(rec.pod);
    if (rec.node && !terminal)
      this.state.event(
        rec.pod,
        "Normal",
        "Killing",
        `Stopping container ${rec.pod.spec.containers[0]?.name ?? ""}`,
        "kubelet",
      );
    rec.kill.abort();
    this.state.after(wait, () => this.#removePod(rec));
    this.onPodChanged(rec);
  }

  #removePod(rec: PodRecord): void {
    if (rec.removed) return;
    rec.removed = true;
    rec.kill.abort();
    this.state.tombstone("pods", rec.pod);
    this.state.pods.delete(podKey(rec.pod));
    for (const listener of rec.logListeners) for (const c of rec.logs.keys()) listener(c, null);
    this.onPodChanged(rec);
    // Freed capacity: pending pods may fit now.
    this.poke();
  }

  /** Sleeps `seconds` of simulated time; rejects with PodKilled when the pod is deleted. Returns early on wake. */
  async #podWait(rec: PodRecord, seconds: number, wakeable = false): Promise<void> {
    if (rec.kill.signal.aborted) throw new PodKilled();
    const signals = [rec.kill.signal, this.state.closed.signal];
    if (wakeable) {
      rec.wake = new AbortController();
      signals.push(rec.wake.signal);
    }
    try {
      await this.state.cloud.clock.sleep(seconds * 1000, AbortSignal.any(signals));
    } catch {
      if (rec.kill.signal.aborted || this.state.closed.signal.aborted) throw new PodKilled();
    }
  }

  #setCondition(
    conditions: Condition[],
    type: string,
    status: Condition["status"],
    reason?: string,
    message?: string,
  ): void {
    const existing = conditions.find((c) => c.type === type);
    const now = this.state.now();
    if (existing) {
      if (existing.status !== status) existing.lastTransitionTime = now;
      existing.status = status;
      if (reason !== undefined) existing.reason = reason;
      else delete existing.reason;
      if (message !== undefined) existing.message = message;
      else delete existing.message;
      return;
    }
    // The kubelet sends `lastProbeTime: null`, which the schema (a string) does not allow; omitting it is equivalent.
    conditions.push({
      type,
      status,
      lastTransitionTime: now,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
    });
  }

  #changed(rec: PodRecord): void {
    this.state.bump(rec.pod);
    this.onPodChanged(rec);
  }

  /** The simulated scheduler + kubelet for one pod; ends when the pod is terminal or deleted. */
  async #runPod(rec: PodRecord): Promise<void> {
    const pod = rec.pod;
    const status = pod.status ?? { phase: "Pending" };
    pod.status = status;
    status.conditions = [];
    try {
      await this.#podWait(rec, this.state.settings.scheduleSeconds);
      // Scheduling: retried until a node fits, as the scheduler's queue would.
      for (;;) {
        const result = schedulePod(this.state, rec);
        if ("node" in result) {
          rec.node = result.node;
          break;
        }
        this.#setCondition(status.conditions, "PodScheduled", "False", "Unschedulable", result.message);
        this.#changed(rec);
        this.state.event(pod, "Warning", "FailedScheduling", result.message, "default-scheduler");
        await this.#podWait(rec, this.state.settings.retrySeconds, true);
      }
      const node = rec.node;
      pod.spec.nodeName = node.name;
      this.#setCondition(status.conditions, "PodScheduled", "True");
      this.state.event(
        pod,
        "Normal",
        "Scheduled",
        `Successfully assigned ${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""} to ${node.name}`,
        "default-scheduler",
      );
      const hostIP =
        (node.object.status as { addresses: Array<{ address: string }> }).addresses[0]?.address ?? "10.224.0.4";
      status.hostIP = hostIP;
      status.hostIPs = [{ ip: hostIP }];
      status.startTime = this.state.now();
      this.#setCondition(status.conditions, "PodReadyToStartContainers", "False");
      this.#setCondition(status.conditions, "Initialized", "True");
      this.#setCondition(
        status.conditions,
        "Ready",
        "False",
        "ContainersNotReady",
        `containers with unready status: [${pod.spec.containers.map((c) => c.name).join(" ")}]`,
      );
      this.#setCondition(
        status.conditions,
        "ContainersReady",
        "False",
        "ContainersNotReady",
        `containers with unready status: [${pod.spec.containers.map((c) => c.name).join(" ")}]`,
      );
      status.containerStatuses = pod.spec.containers.map((c) => ({
        name: c.name,
        image: c.image ?? "",
        imageID: "",
        ready: false,
        started: false,
        restartCount: 0,
        state: { waiting: { reason: "ContainerCreating" } },
        lastState: {},
      }));
      this.#changed(rec);

      const sandboxed = isSandboxed(pod) && node.sandbox;
      if (sandboxed && pod.spec.hostNetwork === true) {
        // Kata cannot share the host network namespace: sandbox creation fails forever.
        for (;;) {
          this.state.event(
            pod,
            "Warning",
            "FailedCreatePodSandBox",
            `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: host networking (hostNetwork: true) is not supported by the Kata VM sandbox runtime ${pod.spec.runtimeClassName ?? ""}`,
            "kubelet",
          );
          await this.#podWait(rec, this.state.settings.retrySeconds);
        }
      }
      await this.#podWait(
        rec,
        sandboxed ? this.state.settings.sandboxCreateSeconds : this.state.settings.containerCreateSeconds,
      );
      const podIP = `10.244.${randomInt(0, 255)}.${randomInt(2, 254)}`;
      status.podIP = podIP;
      status.podIPs = [{ ip: podIP }];
      this.#setCondition(status.conditions, "PodReadyToStartContainers", "True");
      const kernel = sandboxed ? this.state.settings.guestKernel : node.kernel;
      const codes = await Promise.all(pod.spec.containers.map((c, i) => this.#runContainer(rec, c, i, kernel)));
      status.phase = codes.every((c) => c === 0) ? "Succeeded" : "Failed";
      this.#podFinished(rec);
    } catch (error) {
      if (!(error instanceof PodKilled)) throw error;
      this.#podKilled(rec);
    }
  }

  /** Marks the pod terminal: Ready/ContainersReady False with reason PodCompleted. */
  #podFinished(rec: PodRecord): void {
    const status = rec.pod.status;
    if (!status?.conditions) return;
    this.#setCondition(status.conditions, "PodReadyToStartContainers", "False");
    this.#setCondition(status.conditions, "Ready", "False", "PodCompleted");
    this.#setCondition(status.conditions, "ContainersReady", "False", "PodCompleted");
    this.#changed(rec);
  }

  /** A deleted pod's processes were killed (SIGKILL after the grace period: exit 137). */
  #podKilled(rec: PodRecord): void {
    const status = rec.pod.status;
    if (!status || this.state.closed.signal.aborted) return;
    const now = this.state.now();
    let ran = false;
    for (const cs of status.containerStatuses ?? []) {
      if (cs.state.running) {
        ran = true;
        cs.state = {
          terminated: {
            exitCode: 137,
            reason: "Error",
            startedAt: cs.state.running.startedAt ?? now,
            finishedAt: now,
            containerID: cs.containerID ?? "",
          },
        };
        cs.ready = false;
        cs.started = false;
      } else if (cs.state.terminated) ran = true;
    }
    for (const listener of rec.logListeners) for (const c of rec.logs.keys()) listener(c, null);
    if (rec.evicted !== undefined) {
      status.phase = "Failed";
      status.reason = "Evicted";
      status.message = rec.evicted;
      this.#podFinished(rec);
    } else if (status.phase === "Running" || (status.phase === "Pending" && ran)) {
      status.phase = "Failed";
      this.#podFinished(rec);
    } else this.#changed(rec);
  }

  /** Runs one container (with restarts per restartPolicy); resolves with its final exit code. */
  async #runContainer(rec: PodRecord, container: ContainerSpec, index: number, kernel: string): Promise<number> {
    const pod = rec.pod;
    const status = pod.status as NonNullable<PodObject["status"]>;
    const cs = (status.containerStatuses as ContainerStatus[])[index] as ContainerStatus;
    const image = container.image ?? "";
    const script = this.scripts.take({
      clusterKey: this.state.clusterKey,
      namespace: pod.metadata.namespace ?? "",
      podName: pod.metadata.name ?? "",
      container: container.name,
      image,
    });
    let attempt = 0;
    for (;;) {
      if (script?.reason === "ErrImagePull" || script?.reason === "ImagePullBackOff")
        await this.#imagePullFails(rec, cs, image, script);
      this.state.event(pod, "Normal", "Pulled", `Container image "${image}" already present on machine`, "kubelet");
      this.state.event(pod, "Normal", "Created", `Created container ${container.name}`, "kubelet");
      this.state.event(pod, "Normal", "Started", `Started container ${container.name}`, "kubelet");
      const startedAt = this.state.now();
      cs.containerID = `containerd://${randomUUID().replace(/-/g, "")}${randomUUID().replace(/-/g, "")}`;
      cs.imageID = `${image.includes("/") ? "" : "docker.io/library/"}${image.split(":")[0] ?? image}@sha256:${"0".repeat(64)}`;
      cs.state = { running: { startedAt } };
      cs.ready = true;
      cs.started = true;
      status.phase = "Running";
      this.#refreshReadiness(rec);
      this.#changed(rec);
      let exitCode: number;
      let reason: string;
      if (script) {
        for (const line of script.logLines ?? []) this.logs.write(rec, container.name, line);
        await this.#podWait(rec, script.durationSeconds ?? 0);
        exitCode = script.exitCode ?? (script.reason === "OOMKilled" ? 137 : 0);
        reason = script.reason === "OOMKilled" ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
      } else {
        const program = parseContainerProgram(container.command, container.args, image);
        exitCode = await runProgram(program, {
          writeLine: (line) => this.logs.write(rec, container.name, line),
          sleep: (seconds) => this.#podWait(rec, seconds),
          kernel,
          hostname: pod.metadata.name ?? "",
          connect: (request) => connectFromPod(this.state, this.objects, rec, request),
          serviceAccountToken: rec.token,
          writeDisk: (bytes) => this.#writeDisk(rec, bytes),
        });
        reason = exitCode === 0 ? "Completed" : "Error";
      }
      const finishedAt = this.state.now();
      const terminated = { exitCode, reason, startedAt, finishedAt, containerID: cs.containerID };
      cs.state = { terminated };
      cs.ready = false;
      cs.started = false;
      for (const listener of rec.logListeners) listener(container.name, null);
      if (!willRestart(pod.spec, exitCode)) {
        this.#refreshReadiness(rec);
        return exitCode;
      }
      // restartPolicy Always/OnFailure: CrashLoopBackOff with the kubelet's doubling delay (10 s … 5 min).
      attempt++;
      const delay = Math.min(300, 10 * 2 ** (attempt - 1));
      cs.lastState = { terminated };
      cs.state = {
        waiting: {
          reason: "CrashLoopBackOff",
          message: `back-off ${delay}s restarting failed container=${container.name} pod=${pod.metadata.name ?? ""}_${pod.metadata.namespace ?? ""}(${pod.metadata.uid ?? ""})`,
        },
      };
      cs.restartCount++;
      this.#refreshReadiness(rec);
      this.#changed(rec);
      this.state.event(pod, "Warning", "BackOff", "Back-off restarting failed container", "kubelet");
      await this.#podWait(rec, delay);
      const logs = rec.logs.get(container.name);
      if (logs) {
        logs.previous = logs.current;
        logs.current = [];
      }
    }
  }

  /** An image that never pulls: ErrImagePull ↔ ImagePullBackOff until the pod is deleted. */
  async #imagePullFails(rec: PodRecord, cs: ContainerStatus, image: string, script: OutcomeScript): Promise<never> {
    const message =
      script.message ?? `rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
    for (;;) {
      this.state.event(rec.pod, "Normal", "Pulling", `Pulling image "${image}"`, "kubelet");
      this.state.event(rec.pod, "Warning", "Failed", `Failed to pull image "${image}": ${message}`, "kubelet");
      this.state.event(rec.pod, "Warning", "Failed", "Error: ErrImagePull", "kubelet");
      cs.state = { waiting: { reason: "ErrImagePull", message } };
      this.#changed(rec);
      await this.#podWait(rec, 1);
      cs.state = {
        waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}": ErrImagePull: ${message}` },
      };
      this.state.event(rec.pod, "Normal", "BackOff", `Back-off pulling image "${image}"`, "kubelet");
      this.state.event(rec.pod, "Warning", "Failed", "Error: ImagePullBackOff", "kubelet");
      this.#changed(rec);
      await this.#podWait(rec, this.state.settings.retrySeconds);
    }
  }

  #refreshReadiness(rec: PodRecord): void {
    const status = rec.pod.status;
    if (!status?.conditions) return;
    const statuses = status.containerStatuses ?? [];
    const unready = statuses.filter((c) => !c.ready).map((c) => c.name);
    if (unready.length === 0) {
      this.#setCondition(status.conditions, "ContainersReady", "True");
      this.#setCondition(status.conditions, "Ready", "True");
    } else {
      const msg = `containers with unready status: [${unready.join(" ")}]`;
      this.#setCondition(status.conditions, "ContainersReady", "False", "ContainersNotReady", msg);
      this.#setCondition(status.conditions, "Ready", "False", "ContainersNotReady", msg);
    }
  }

  /** True when the pod gets a service-account token volume (pod and account both allow automount). */
  #mountsToken(pod: PodObject): boolean {
    const spec = pod.spec as PodSpec & { automountServiceAccountToken?: boolean };
    if (spec.automountServiceAccountToken !== undefined) return spec.automountServiceAccountToken;
    const account = this.objects
      .raw("serviceaccounts", pod.metadata.namespace ?? "")
      .find((a) => a.metadata.name === (spec.serviceAccountName ?? "default"));
    return (account as { automountServiceAccountToken?: boolean } | undefined)?.automountServiceAccountToken !== false;
  }

  /** The kubelet's ephemeral-storage accounting: past the pod's limit it evicts the pod. */
  async #writeDisk(rec: PodRecord, bytes: number): Promise<void> {
    rec.diskBytes += bytes;
    const limit = rec.pod.spec.containers.reduce(
      (sum, c) => sum + (parseQuantity(c.resources?.limits?.["ephemeral-storage"]) ?? Number.POSITIVE_INFINITY),
      0,
    );
    if (rec.diskBytes <= limit) return;
    const limitText = String(
      rec.pod.spec.containers.find((c) => c.resources?.limits?.["ephemeral-storage"] !== undefined)?.resources
        ?.limits?.["ephemeral-storage"] ?? "",
    );
    // The eviction manager notices on its next pass (every 10 s).
    await this.#podWait(rec, 10);
    const message = `Pod ephemeral local storage usage exceeds the total limit of containers ${limitText}. `;
    rec.evicted = message;
    this.state.event(rec.pod, "Warning", "Evicted", message, "kubelet");
    rec.kill.abort();
    throw new PodKilled();
  }
}
