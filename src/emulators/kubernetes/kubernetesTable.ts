import type { KubeObject } from "./kubernetesObjects.js";

/**
 * Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`),
 * which `kubectl get` asks for: the same columns kubectl shows against a real
 * cluster, for the resources the emulator serves.
 */

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority: number;
  cell: (o: KubeObject, nowMs: number) => string | number;
}

/** kubectl's HumanDuration (`45s`, `5m3s`, `42m`, `5h3m`, `3d`, …). */
export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (d < 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

type Any = Record<string, unknown>;

function get(o: unknown, path: string): unknown {
  let current: unknown = o;
  for (const part of path.split("."))
    current = current && typeof current === "object" ? (current as Any)[part] : undefined;
  return current;
}

/** The string (or number) at `path`, else `fallback`. */
function str(o: unknown, path: string, fallback: string): string {
  const value = get(o, path);
  return typeof value === "string" || typeof value === "number" ? String(value) : fallback;
}

function age(o: KubeObject, now: number): string {
  const t = o.metadata.creationTimestamp;
  return t ? humanDuration(now - Date.parse(t)) : "<unknown>";
}

const NAME: Column = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace.",
  priority: 0,
  cell: (o) => o.metadata.name ?? "",
};
const AGE: Column = {
  name: "Age",
  type: "string",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  priority: 0,
  cell: age,
};

interface ContainerStatusLike {
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number } };
}

/** The STATUS column of `kubectl get pods` (kubectl's printPod logic, simplified). */
function podStatus(o: KubeObject): string {
  let reason = str(o, "status.reason", str(o, "status.phase", "Unknown"));
  for (const cs of (get(o, "status.containerStatuses") as ContainerStatusLike[] | undefined) ?? []) {
    if (cs.state?.waiting?.reason) reason = cs.state.waiting.reason;
    else if (cs.state?.terminated)
      reason = cs.state.terminated.reason ?? `ExitCode:${cs.state.terminated.exitCode ?? 0}`;
  }
  if (reason === "Pending" && !(get(o, "status.containerStatuses") as unknown[] | undefined)?.length)
    reason = "Pending";
  if (o.metadata.deletionTimestamp) reason = "Terminating";
  return reason;
}

function jobStatus(o: KubeObject): string {
  const conditions = (get(o, "status.conditions") as Array<{ type: string; status: string }> | undefined) ?? [];
  const has = (t: string) => conditions.some((c) => c.type === t && c.status === "True");
  if (has("Complete")) return "Complete";
  if (has("Failed")) return "Failed";
  if (o.metadata.deletionTimestamp) return "Terminating";
  if (has("SuccessCriteriaMet")) return "SuccessCriteriaMet";
  if (has("FailureTarget")) return "FailureTarget";
  if (get(o, "spec.suspend") === true) return "Suspended";
  return "Running";
}

const COLUMNS: Record<string, Column[]> = {
  pods: [
    NAME,
    {
      name: "Ready",
      type: "string",
      description: "The aggregate readiness state of this pod for accepting traffic.",
      priority: 0,
      cell: (o) => {
        const statuses = (get(o, "status.containerStatuses") as ContainerStatusLike[] | undefined) ?? [];
        const total = ((get(o, "spec.containers") as unknown[] | undefined) ?? []).length;
        return `${statuses.filter((c) => c.ready).length}/${total}`;
      },
    },
    {
      name: "Status",
      type: "string",
      description: "The aggregate status of the containers in this pod.",
      priority: 0,
      cell: podStatus,
    },
    {
      name: "Restarts",
      type: "string",
      description:
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
      priority: 0,
      cell: (o) =>
        String(
          ((get(o, "status.containerStatuses") as ContainerStatusLike[] | undefined) ?? []).reduce(
            (s, c) => s + (c.restartCount ?? 0),
            0,
          ),
        ),
    },
    AGE,
    {
      name: "IP",
      type: "string",
      description: "IP address allocated to the pod.",
      priority: 1,
      cell: (o) => str(o, "status.podIP", "<none>"),
    },
    {
      name: "Node",
      type: "string",
      description: "Name of the node the pod is assigned to.",
      priority: 1,
      cell: (o) => str(o, "spec.nodeName", "<none>"),
    },
  ],
  nodes: [
    NAME,
    { name: "Status", type: "string", description: "The status of the node", priority: 0, cell: () => "Ready" },
    { name: "Roles", type: "string", description: "The roles of the node", priority: 0, cell: () => "<none>" },
    AGE,
    {
      name: "Version",
      type: "string",
      description: "Kubelet Version reported by the node.",
      priority: 0,
      cell: (o) => str(o, "status.nodeInfo.kubeletVersion", ""),
    },
    {
      name: "Internal-IP",
      type: "string",
      description: "List of addresses reachable to the node.",
      priority: 1,
      cell: (o) =>
        ((get(o, "status.addresses") as Array<{ type: string; address: string }> | undefined) ?? []).find(
          (a) => a.type === "InternalIP",
        )?.address ?? "<none>",
    },
    {
      name: "External-IP",
      type: "string",
      description: "List of addresses reachable to the node.",
      priority: 1,
      cell: () => "<none>",
    },
    {
      name: "OS-Image",
      type: "string",
      description: "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
      priority: 1,
      cell: (o) => str(o, "status.nodeInfo.osImage", ""),
    },
    {
      name: "Kernel-Version",
      type: "string",
      description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      priority: 1,
      cell: (o) => str(o, "status.nodeInfo.kernelVersion", ""),
    },
    {
      name: "Container-Runtime",
      type: "string",
      description:
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
      priority: 1,
      cell: (o) => str(o, "status.nodeInfo.containerRuntimeVersion", ""),
    },
  ],
  runtimeclasses: [
    NAME,
    {
      name: "Handler",
      type: "string",
      description:
        "Handler specifies the underlying runtime and configuration that the CRI implementation will use to handle pods of this class.",
      priority: 0,
      cell: (o) => str(o, "handler", ""),
    },
    AGE,
  ],
  jobs: [
    NAME,
    { name: "Status", type: "string", description: "Status of the job.", priority: 0, cell: jobStatus },
    {
      name: "Completions",
      type: "string",
      description: "The desired number of successfully finished pods the job should be run with.",
      priority: 0,
      cell: (o) => `${Number(get(o, "status.succeeded") ?? 0)}/${Number(get(o, "spec.completions") ?? 1)}`,
    },
    {
      name: "Duration",
      type: "string",
      description: "Time required to complete the job.",
      priority: 0,
      cell: (o, now) => {
        const start = get(o, "status.startTime");
        if (typeof start !== "string") return "";
        const end = get(o, "status.completionTime");
        return humanDuration((typeof end === "string" ? Date.parse(end) : now) - Date.parse(start));
      },
    },
    AGE,
  ],
  namespaces: [
    NAME,
    {
      name: "Status",
      type: "string",
      description: "The status of the namespace",
      priority: 0,
      cell: (o) => str(o, "status.phase", ""),
    },
    AGE,
  ],
  events: [
    {
      name: "Last Seen",
      type: "string",
      description: "Time when this Event was last observed.",
      priority: 0,
      cell: (o, now) => humanDuration(now - Date.parse(str(o, "lastTimestamp", ""))),
    },
    {
      name: "Type",
      type: "string",
      description: "Type of this event (Normal, Warning), new types could be added in the future.",
      priority: 0,
      cell: (o) => str(o, "type", ""),
    },
    {
      name: "Reason",
      type: "string",
      description: "The reason this event is generated.",
      priority: 0,
      cell: (o) => str(o, "reason", ""),
    },
    {
      name: "Object",
      type: "string",
      description: "The object that this event is about.",
      priority: 0,
      cell: (o) => `${str(o, "involvedObject.kind", "").toLowerCase()}/${str(o, "involvedObject.name", "")}`,
    },
    {
      name: "Message",
      type: "string",
      description: "A human-readable description of the status of this operation.",
      priority: 0,
      cell: (o) => str(o, "message", ""),
    },
  ],
};

/**
 * A `meta.k8s.io/v1` Table of `objects` of `resource`. `includeObject`:
 * `None`, `Metadata` (default: PartialObjectMetadata rows) or `Object`.
 */
export function toTable(
  resource: string,
  objects: KubeObject[],
  nowMs: number,
  resourceVersion: string,
  includeObject = "Metadata",
): Record<string, unknown> {
  const columns = COLUMNS[resource] ?? [NAME, AGE];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: columns.map(({ name, type, format, description, priority }) => ({
      name,
      type,
      format: format ?? "",
      description,
      priority,
    })),
    rows: objects.map((o) => ({
      cells: columns.map((c) => c.cell(o, nowMs)),
      object:
        includeObject === "None"
          ? null
          : includeObject === "Object"
            ? o
            : { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata },
    })),
  };
}
