import { createHash } from "node:crypto";
import { HARDENING } from "../docker/hardening.js";
import { LABEL } from "../docker/labels.js";
import type { Manifest } from "../models/manifest.js";
import type { Cell } from "../scenario/expand.js";
import type { Scenario } from "../scenario/schema.js";

/** What the Kubernetes export's builders share: object shapes, names, quantities, the hardening. */

export interface K8sMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** One Kubernetes resource. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: K8sMeta;
  [field: string]: unknown;
}

export interface K8sExportOptions {
  /** Every object goes into this namespace (default fiblab). */
  namespace: string;
  /** Prefixed to every image: "<registry>/fiblab/<name>:latest". */
  registry?: string | undefined;
  /** The PersistentVolumeClaim the clients write their results to (default fiblab-results). */
  resultsClaim: string;
  /** Epoch ms: the Node clients' common start (START_AT); unset, each starts when its pod does. */
  startAt?: number | undefined;
  /** Seeds the clients' random draws, as a lab run does: the expansion's seed + the cell's order. */
  seed: number;
  /**
   * Requests per second the scenario's relative rates ("80%") are shares of. A lab run probes it
   * per model and topology; on a cluster, measure it there first (docs/KUBERNETES.md).
   */
  capacity?: number | undefined;
}

export const DEFAULT_NAMESPACE = "fiblab";
export const DEFAULT_RESULTS_CLAIM = "fiblab-results";
/** Where the results claim is mounted in the results pod; cells/<cell id>/clients/<group>-<i>/ below. */
export const RESULTS_MOUNT = "/results";
export const MODEL_SERVICE = "model";
export const FRONT_NAME = "front";
export const MODEL_HTTP_PORT = 8000;
export const MODEL_TCP_PORT = 25000;
export const FRONT_HTTP_PORT = 8080;
export const FRONT_TCP_PORT = 25000;
/** The compose file's defaults: a replica's memory, the front's memory. */
export const MODEL_MEMORY = "512m";
export const FRONT_MEMORY = "256m";
export const DEFAULT_FRONT_CPUS = 1;
/** Annotations carrying what a label value cannot (any length, any character). */
export const ANNOTATION = { cell: "fiblab/cell-id", scenario: "fiblab/scenario", seed: "fiblab/seed" } as const;
/** The uid:gid every lab container runs as. */
const [UID, GID] = HARDENING.user.split(":").map(Number) as [number, number];

/** "fiblab/py-sync:latest", behind a registry prefix when given. */
export function imageRef(name: string, registry?: string): string {
  const ref = `fiblab/${name}:latest`;
  return registry ? `${registry.replace(/\/+$/, "")}/${ref}` : ref;
}

/**
 * Without a registry the images are loaded into the nodes (kind load, k3s ctr import): never pull
 * them. With one, `:latest` keeps Kubernetes' default for that tag (Always), so a rebuilt image is
 * the one that runs.
 */
export function pullPolicy(registry?: string): { imagePullPolicy?: "IfNotPresent" } {
  return registry ? {} : { imagePullPolicy: "IfNotPresent" };
}

const LABEL_VALUE_RE = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const shortHash = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 8);

/** A label value (at most 63 characters of [A-Za-z0-9_.-]): the text itself when it is one, else a readable prefix and a hash. */
export function labelValue(text: string): string {
  if (text.length <= 63 && LABEL_VALUE_RE.test(text)) return text;
  const head = text
    .replace(/[^A-Za-z0-9_.-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 54)
    .replace(/[^A-Za-z0-9]+$/, "");
  return `${head}${head ? "-" : ""}${shortHash(text)}`;
}

/** A DNS-1123 label (object names): lower case, digits and '-', at most `max` characters. */
export function dnsLabel(text: string, max = 63): string {
  const clean = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  if (clean === text && clean.length <= max) return clean;
  const head = clean.slice(0, max - 9).replace(/-+$/, "");
  return `${head}${head ? "-" : "x"}${shortHash(text)}`;
}

/** Docker's memory notation (512m, 1g: binary units) as a Kubernetes quantity (512Mi, 1Gi). */
export function memoryQuantity(docker: string): string {
  const m = /^(\d+)([bkmg]?)$/i.exec(docker);
  if (!m) throw new Error(`not a memory size: ${JSON.stringify(docker)}`);
  const unit = { "": "", b: "", k: "Ki", m: "Mi", g: "Gi" }[(m[2] ?? "").toLowerCase()];
  return `${m[1]}${unit}`;
}

/** A CPU limit in cores as a quantity in millicores (0.5 → 500m). */
export function cpuQuantity(cores: number): string {
  return `${Math.round(cores * 1000)}m`;
}

/** requests = limits (Guaranteed QoS): the CFS quota is the limit, as compose's `cpus`. */
export function resources(cpus: number, memory: string) {
  const r = { cpu: cpuQuantity(cpus), memory: memoryQuantity(memory) };
  return { requests: { ...r }, limits: { ...r } };
}

/** The pod-level half of the lab's hardening (uid and gid 10001; fsGroup makes volumes writable to it). */
export function podSecurity() {
  return { runAsUser: UID, runAsGroup: GID, runAsNonRoot: true, fsGroup: GID, seccompProfile: { type: "RuntimeDefault" } };
}

/** The container-level half: read-only root, no capabilities, no privilege escalation. */
export function containerSecurity() {
  return {
    readOnlyRootFilesystem: HARDENING.readOnly,
    allowPrivilegeEscalation: false,
    capabilities: { drop: [...HARDENING.capDrop] },
  };
}

/** The tmpfs /tmp of compose (64 MiB in memory). */
export const TMP_VOLUME = { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "64Mi" } };
export const TMP_MOUNT = { name: "tmp", mountPath: "/tmp" };

/** name/value pairs in a stable order. */
export function envList(env: Record<string, string>): { name: string; value: string }[] {
  return Object.keys(env)
    .sort()
    .map((name) => ({ name, value: env[name] as string }));
}

/** What every object of a cell carries, and the pieces its builders need. */
export interface CellContext {
  cell: Cell;
  scenario: Scenario;
  manifest: Manifest;
  opts: K8sExportOptions;
  /** Labels shared by every object of the cell. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function meta(ctx: CellContext, name: string, role: string, extra: Record<string, string> = {}): K8sMeta {
  return {
    name,
    namespace: ctx.opts.namespace,
    labels: { ...ctx.labels, [LABEL.role]: role, ...extra },
    annotations: { ...ctx.annotations },
  };
}
