/**
 * `invbench k8s MATRIX --shards N --image IMAGE`: Kubernetes manifests for a matrix, as YAML:
 *
 *   OUT/shards.job.yaml   an Indexed Job (completionMode: Indexed, completions = parallelism = N):
 *                         pod i runs `run --shard auto --shard-count N` (Kubernetes sets
 *                         JOB_COMPLETION_INDEX) into DATA/shard-<i>, with the cache in DATA/cache
 *   OUT/merge.job.yaml    a Job merging DATA/shard-* into DATA/merged
 *
 * DATA is a directory on a PersistentVolumeClaim (ReadWriteMany) mounted in every pod. The image
 * holds the repository with `npm install` done (docs/distributed.md). Kubernetes has no
 * dependency between Jobs: apply the merge after `kubectl wait --for=condition=complete` on the
 * shards (the command is printed). Both manifests follow batch/v1 Job (tested against its schema).
 */
import { posix } from "node:path";
import { InputError } from "../errors.ts";
import { stringify } from "yaml";
import { type LaunchOptions, type LaunchPlan, mergeCommand, planLaunch, shardShellLine } from "./plan.ts";

export interface KubernetesOptions extends LaunchOptions {
  image: string;
  /** The repository inside the image. */
  workdir: string;
  /** The PersistentVolumeClaim holding DATA, and DATA's path inside the pods. */
  pvc: string;
  data: string;
  cpu?: string;
  memory?: string;
}

export interface KubernetesManifests {
  plan: LaunchPlan;
  names: { shards: string; merge: string };
  shards: Record<string, unknown>;
  merge: Record<string, unknown>;
}

/** A DNS-1123 name from the matrix name (Job names must be one). */
function jobName(matrix: string, suffix: string): string {
  const base = `invbench-${matrix}`.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/-+$/, "").slice(
    0,
    50,
  );
  return `${base}-${suffix}`;
}

function podSpec(o: KubernetesOptions, name: string, command: string[]): Record<string, unknown> {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    restartPolicy: "Never",
    containers: [{
      name,
      image: o.image,
      workingDir: o.workdir,
      command,
      ...(Object.keys(requests).length ? { resources: { requests } } : {}),
      volumeMounts: [{ name: "data", mountPath: o.data }],
    }],
    volumes: [{ name: "data", persistentVolumeClaim: { claimName: o.pvc } }],
  };
}

/** A resource quantity (1500m, 2, 8Gi, 1e3): what a pod's requests take. */
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE]\d+)?$/;
/** An object name (DNS-1123 subdomain): what a PersistentVolumeClaim is called. */
const OBJECT_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Refuses values the API server would reject, before any manifest is written. */
function checkValues(o: KubernetesOptions): void {
  const bad = (flag: string, value: string, expected: string) =>
    new InputError(`${flag} ${JSON.stringify(value)}: expected ${expected}`);
  for (const [flag, value] of [["--cpu", o.cpu], ["--memory", o.memory]] as const) {
    if (value !== undefined && !QUANTITY.test(value)) {
      throw bad(flag, value, "a Kubernetes quantity (e.g. 2, 1500m, 8Gi)");
    }
  }
  if (!OBJECT_NAME.test(o.pvc)) {
    throw bad("--pvc", o.pvc, "a Kubernetes object name (lowercase letters, digits, '-' and '.')");
  }
  if (!/^\S+$/.test(o.image)) throw bad("--image", o.image, "a container image reference without whitespace");
  for (const [flag, dir] of [["--workdir", o.workdir], ["--data", o.data]] as const) {
    if (!posix.isAbsolute(dir)) throw new InputError(`${flag} ${dir}: expected an absolute path in the pods`);
  }
}

/** Both Job manifests as objects. */
export async function kubernetesManifests(o: KubernetesOptions): Promise<KubernetesManifests> {
  checkValues(o);
  const plan = await planLaunch(o);
  if (!plan.matrixInProject) {
    throw new InputError(
      `${o.matrix} is outside the repository; the pods read the matrix from the image, so put it in the repository`,
    );
  }
  const n = plan.shards.length;
  const names = { shards: jobName(plan.name, "shards"), merge: jobName(plan.name, "merge") };
  const labels = {
    "app.kubernetes.io/name": "invbench",
    "invbench/matrix": jobName(plan.name, "").slice(0, -1),
  };
  // The shard directory needs the index, which only the pod's environment knows: a shell expands it.
  const run = shardShellLine(plan, {
    matrix: plan.matrixInProject,
    dir: o.data,
    indexVar: "JOB_COMPLETION_INDEX",
    extra: ["--shard-count", String(n)],
  });
  const shards = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: names.shards, labels },
    spec: {
      completionMode: "Indexed",
      completions: n,
      parallelism: n,
      // Failed pods are retried (n retries in all); a retry resumes from the cells on the volume.
      backoffLimit: n,
      template: {
        metadata: { labels },
        spec: podSpec(o, "shard", ["/bin/sh", "-c", `exec ${run}`]),
      },
    },
  };
  const merge = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: names.merge, labels },
    spec: {
      completions: 1,
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: podSpec(o, "merge", mergeCommand(plan, o.data)),
      },
    },
  };
  return { plan, names, shards, merge };
}

/** The manifests as YAML documents, each headed by what it is. */
export function renderManifest(m: KubernetesManifests, which: "shards" | "merge"): string {
  const p = m.plan;
  return `# Written by \`invbench k8s\`: matrix ${p.name} ${p.version} (sha256 ${p.sha256}), ${p.shards.length} shard(s).\n` +
    stringify(which === "shards" ? m.shards : m.merge, { lineWidth: 0 });
}
