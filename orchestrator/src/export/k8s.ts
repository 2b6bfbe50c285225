import { LABEL } from "../docker/labels.js";
import { CONTRACT_KNOBS, resolveKnobs } from "../models/knobs.js";
import type { Manifest } from "../models/manifest.js";
import { deploymentEnv } from "../run/runner.js";
import type { Cell } from "../scenario/expand.js";
import type { Scenario } from "../scenario/schema.js";
import {
  ANNOTATION,
  containerSecurity,
  DEFAULT_FRONT_CPUS,
  envList,
  FRONT_HTTP_PORT,
  FRONT_MEMORY,
  FRONT_NAME,
  FRONT_TCP_PORT,
  imageRef,
  labelValue,
  meta,
  MODEL_HTTP_PORT,
  MODEL_MEMORY,
  MODEL_SERVICE,
  MODEL_TCP_PORT,
  podSecurity,
  pullPolicy,
  resources,
  RESULTS_MOUNT,
  TMP_MOUNT,
  TMP_VOLUME,
  type CellContext,
  type K8sExportOptions,
  type K8sMeta,
  type K8sObject,
} from "./k8s-common.js";
import { loadObjects } from "./k8s-load.js";

export * from "./k8s-common.js";

/**
 * `lab export k8s`: a cell as Kubernetes objects (plain data; k8s-write.ts writes them as YAML).
 * The same planning as a lab run: the model's knobs (resolveKnobs), the front's settings and the
 * replicas' limits (deploymentEnv), the clients' environment (planFleet, k8s-load.ts). What Docker
 * does and Kubernetes cannot (CFS stats, cpuset, pids limits, a restart policy other than Always,
 * the start barrier across pods) is in docs/KUBERNETES.md.
 */

/** The model's health command, as its compose service's healthcheck (by runtime). */
export function healthCommand(manifest: Pick<Manifest, "name" | "runtime">): string[] {
  if (manifest.runtime === "python") return ["python3", "-m", "fiblab.health"];
  if (manifest.runtime === "node") return ["node", "/app/health.js"];
  throw new Error(`model ${manifest.name}: no healthcheck known for runtime "${manifest.runtime}"`);
}

/** The compose healthcheck as a readiness probe: every 2 s, 3 s timeout, 30 failures before unready. */
function readiness(command: string[]) {
  return { exec: { command }, periodSeconds: 2, timeoutSeconds: 3, failureThreshold: 30, successThreshold: 1 };
}

/** The model's environment: every knob of its manifest at the topology's value or its default, plus the contract's caps. */
export function modelEnv(manifest: Manifest, cell: Cell): Record<string, string> {
  const contract = Object.fromEntries(Object.entries(CONTRACT_KNOBS).map(([k, v]) => [k, String(v)]));
  return { ...contract, ...resolveKnobs(manifest, cell.topology) };
}

function modelDeployment(ctx: CellContext): K8sObject {
  const { manifest, cell } = ctx;
  const env = deploymentEnv(manifest, ctx.scenario, cell.topology);
  const ports = [{ name: "http", containerPort: MODEL_HTTP_PORT, protocol: "TCP" }];
  if (manifest.protocols.includes("tcp")) ports.push({ name: "tcp", containerPort: MODEL_TCP_PORT, protocol: "TCP" });
  return deployment(ctx, meta(ctx, manifest.name, "model", { "fiblab.model": manifest.name }), cell.topology.replicas, {
    name: "model",
    image: imageRef(manifest.name, ctx.opts.registry),
    ...pullPolicy(ctx.opts.registry),
    env: envList(modelEnv(manifest, cell)),
    ports,
    resources: resources(Number(env.CPUS), env.MEMORY ?? MODEL_MEMORY),
    readinessProbe: readiness(healthCommand(manifest)),
  });
}

/** The pods of one role in this cell. */
function selector(ctx: CellContext, role: "model" | "front"): Record<string, string> {
  return { [LABEL.role]: role, [LABEL.cell]: ctx.labels[LABEL.cell] as string };
}

/** A Deployment of one container, hardened as the lab runs every container: /tmp its only writable place. */
function deployment(
  ctx: CellContext,
  podMeta: K8sMeta,
  replicas: number,
  container: { name: "model" | "front" } & Record<string, unknown>,
): K8sObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: podMeta,
    spec: {
      replicas,
      selector: { matchLabels: selector(ctx, container.name) },
      template: {
        metadata: { labels: podMeta.labels, annotations: podMeta.annotations },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 5,
          securityContext: podSecurity(),
          containers: [{ ...container, securityContext: containerSecurity(), volumeMounts: [TMP_MOUNT] }],
          volumes: [TMP_VOLUME],
        },
      },
    },
  };
}

/**
 * Headless: the name `model` resolves to the address of every ready replica (one A record each),
 * which is what the front's entrypoint lists with `getent ahostsv4 model`, as on the compose network.
 */
function modelService(ctx: CellContext): K8sObject {
  const ports = [{ name: "http", port: MODEL_HTTP_PORT, targetPort: MODEL_HTTP_PORT, protocol: "TCP" }];
  if (ctx.manifest.protocols.includes("tcp"))
    ports.push({ name: "tcp", port: MODEL_TCP_PORT, targetPort: MODEL_TCP_PORT, protocol: "TCP" });
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(ctx, MODEL_SERVICE, "model"),
    spec: {
      clusterIP: "None",
      selector: selector(ctx, "model"),
      ports,
    },
  };
}

/** The front's settings, as a lab run gives its compose service. */
function frontConfig(ctx: CellContext): K8sObject {
  const env = deploymentEnv(ctx.manifest, ctx.scenario, ctx.cell.topology);
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(ctx, FRONT_NAME, "front"),
    data: { BALANCE: env.BALANCE as string, UPSTREAM_KEEPALIVE: env.UPSTREAM_KEEPALIVE as string, MODEL_HOST: MODEL_SERVICE },
  };
}

function frontDeployment(ctx: CellContext): K8sObject {
  const env = deploymentEnv(ctx.manifest, ctx.scenario, ctx.cell.topology);
  const cpus = env.FRONT_CPUS !== undefined ? Number(env.FRONT_CPUS) : DEFAULT_FRONT_CPUS;
  return deployment(ctx, meta(ctx, FRONT_NAME, "front"), 1, {
    name: "front",
    image: imageRef("front", ctx.opts.registry),
    ...pullPolicy(ctx.opts.registry),
    envFrom: [{ configMapRef: { name: FRONT_NAME } }],
    ports: [
      { name: "http", containerPort: FRONT_HTTP_PORT, protocol: "TCP" },
      { name: "tcp", containerPort: FRONT_TCP_PORT, protocol: "TCP" },
    ],
    resources: resources(cpus, FRONT_MEMORY),
    readinessProbe: { ...readiness(["/usr/local/bin/front-health"]), failureThreshold: 60 },
  });
}

function frontService(ctx: CellContext): K8sObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(ctx, FRONT_NAME, "front"),
    spec: {
      type: "ClusterIP",
      selector: selector(ctx, "front"),
      ports: [
        { name: "http", port: FRONT_HTTP_PORT, targetPort: FRONT_HTTP_PORT, protocol: "TCP" },
        { name: "tcp", port: FRONT_TCP_PORT, targetPort: FRONT_TCP_PORT, protocol: "TCP" },
      ],
    },
  };
}

export function cellContext(cell: Cell, scenario: Scenario, catalog: readonly Manifest[], opts: K8sExportOptions): CellContext {
  const manifest = catalog.find((m) => m.name === cell.model);
  if (!manifest) throw new Error(`unknown model "${cell.model}"`);
  return {
    cell,
    scenario,
    manifest,
    opts,
    labels: { "app.kubernetes.io/part-of": "fiblab", [LABEL.cell]: labelValue(cell.id) },
    annotations: { [ANNOTATION.cell]: cell.id, [ANNOTATION.scenario]: scenario.name, [ANNOTATION.seed]: String(opts.seed) },
  };
}

/**
 * Every object of one cell, in the order to apply them: the model (Deployment, headless Service),
 * the front (ConfigMap, Deployment, Service), then the load (k8s-load.ts: k6-operator TestRuns and
 * their script's ConfigMap, Jobs for the Node client). The namespace and the results claim are
 * shared by every cell (sharedObjects).
 *
 * `k6Script` is the text of loadtests/k6/fib.js (the caller reads it; this stays pure).
 */
export function cellObjects(
  cell: Cell,
  scenario: Scenario,
  catalog: readonly Manifest[],
  opts: K8sExportOptions,
  k6Script: string,
): K8sObject[] {
  const ctx = cellContext(cell, scenario, catalog, opts);
  const objects = [
    modelDeployment(ctx),
    modelService(ctx),
    frontConfig(ctx),
    frontDeployment(ctx),
    frontService(ctx),
    ...loadObjects(ctx, k6Script),
  ];
  const seen = new Set<string>();
  for (const o of objects) {
    const key = `${o.kind}/${o.metadata.name}`;
    if (seen.has(key)) throw new Error(`cell ${cell.id}: two objects named ${key} (group names that differ only in case or punctuation?)`);
    seen.add(key);
  }
  return objects;
}

/**
 * Objects every cell shares, applied once: the namespace, the claim every client writes its
 * results to (cells/<cell id>/clients/<group>-<i>/, the archive's layout), and a pod that mounts
 * it for `kubectl cp`.
 */
export function sharedObjects(opts: K8sExportOptions): K8sObject[] {
  const labels = { "app.kubernetes.io/part-of": "fiblab" };
  const ns = opts.namespace;
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels } },
    {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: opts.resultsClaim, namespace: ns, labels: { ...labels, [LABEL.role]: "results" } },
      // ReadWriteOnce serves a one-node cluster; with clients on several nodes use a ReadWriteMany class (docs/KUBERNETES.md).
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    },
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: opts.resultsClaim, namespace: ns, labels: { ...labels, [LABEL.role]: "results" } },
      spec: {
        automountServiceAccountToken: false,
        securityContext: podSecurity(),
        containers: [
          {
            name: "results",
            image: imageRef("loadclient", opts.registry),
            ...pullPolicy(opts.registry),
            command: ["sleep", "infinity"],
            resources: resources(0.05, "64m"),
            securityContext: containerSecurity(),
            volumeMounts: [{ name: "results", mountPath: RESULTS_MOUNT }],
          },
        ],
        volumes: [{ name: "results", persistentVolumeClaim: { claimName: opts.resultsClaim } }],
      },
    },
  ];
}
