import { test } from "node:test";
import assert from "node:assert/strict";
import {
  buildJobManifest,
  JOB_ID_LABEL,
  MANAGED_BY_LABEL,
  TEAM_LABEL,
  type JobManifestInput,
} from "../../../../src/domain/jobs/jobManifest.js";
import { kubernetesSchemaValidator } from "../../../../src/emulators/kubernetes/kubernetesSchemaValidator.js";

const input: JobManifestInput = {
  name: "untrusted-1",
  namespace: "team-alpha",
  image: "mcr.microsoft.com/aks/fundamental/base-ubuntu:v0.0.11",
  command: ["/bin/sh", "-ec"],
  args: ["while :; do echo '.'; sleep 5 ; done"],
  env: { KEY: "value" },
  limits: { cpu: "500m", memory: "512Mi" },
  requests: { cpu: "250m" },
  runtimeClassName: "kata-mshv-vm-isolation",
  timeoutSeconds: 3600,
  ttlSecondsAfterFinished: 600,
  backoffLimit: 0,
  runAsNonRoot: true,
  team: "alpha",
  jobId: "j-0123456789abcdef",
  requestId: "9f8e7d6c-5b4a-4321-8765-0123456789ab",
};

test("the manifest validates against the official batch/v1 Job schema (strict: unknown fields rejected)", () => {
  const violations = kubernetesSchemaValidator().validate("Job", buildJobManifest(input));
  assert.deepEqual(violations, []);
  const trusted = kubernetesSchemaValidator().validate(
    "Job",
    buildJobManifest({ ...input, runtimeClassName: undefined, command: [], env: {}, limits: {}, requests: {} }),
  );
  assert.deepEqual(trusted, []);
});

test("sandbox runtime class, restricted security context, no host namespaces, no token", () => {
  const job = buildJobManifest(input) as {
    spec: {
      activeDeadlineSeconds: number;
      ttlSecondsAfterFinished: number;
      backoffLimit: number;
      template: {
        metadata: { labels: Record<string, string> };
        spec: Record<string, unknown> & { containers: Record<string, unknown>[] };
      };
    };
  };
  const pod = job.spec.template.spec;
  assert.equal(pod.runtimeClassName, "kata-mshv-vm-isolation");
  assert.equal(pod.restartPolicy, "Never");
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.enableServiceLinks, false);
  assert.equal(pod.hostNetwork, false);
  assert.equal(pod.hostPID, false);
  assert.equal(pod.hostIPC, false);
  assert.equal(job.spec.activeDeadlineSeconds, 3600);
  assert.equal(job.spec.ttlSecondsAfterFinished, 600);
  assert.equal(job.spec.backoffLimit, 0);
  const sc = pod.containers[0]!.securityContext as Record<string, unknown>;
  assert.deepEqual(sc, {
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
    runAsNonRoot: true,
    runAsUser: 65532,
    runAsGroup: 65532,
  });
  assert.deepEqual(pod.containers[0]!.resources, {
    limits: { cpu: "500m", memory: "512Mi" },
    requests: { cpu: "250m" },
  });
  assert.deepEqual(pod.containers[0]!.env, [{ name: "KEY", value: "value" }]);
  const labels = job.spec.template.metadata.labels;
  assert.equal(labels[MANAGED_BY_LABEL], "aks-pod-sandbox");
  assert.equal(labels[TEAM_LABEL], "alpha");
  assert.equal(labels[JOB_ID_LABEL], "j-0123456789abcdef");
});

test("a relaxed policy drops runAsNonRoot (and the fixed uid)", () => {
  const job = buildJobManifest({ ...input, runAsNonRoot: false }) as {
    spec: { template: { spec: { containers: { securityContext: Record<string, unknown> }[] } } };
  };
  const sc = job.spec.template.spec.containers[0]!.securityContext;
  assert.equal(sc.runAsNonRoot, false);
  assert.equal(sc.runAsUser, undefined);
  assert.equal(sc.allowPrivilegeEscalation, false);
});

test("a trusted job has no runtime class", () => {
  const job = buildJobManifest({ ...input, runtimeClassName: undefined }) as {
    spec: { template: { spec: Record<string, unknown> } };
  };
  assert.equal("runtimeClassName" in job.spec.template.spec, false);
});
