import { OUT_DIR } from "../../../loadtests/contract/env.js";
import { LABEL } from "../docker/labels.js";
import { K6_OUTPUT_ARGS } from "../fleet/k6-result.js";
import { CLIENT_MEMORY_BYTES, DEFAULT_TARGET, planFleet, type ClientSpec } from "../fleet/plan.js";
import type { Group } from "../scenario/schema.js";
import { resolveLoad } from "../measure/limits.js";
import {
  containerSecurity,
  dnsLabel,
  envList,
  imageRef,
  labelValue,
  meta,
  podSecurity,
  pullPolicy,
  resources,
  TMP_MOUNT,
  TMP_VOLUME,
  type CellContext,
  type K8sObject,
} from "./k8s-common.js";

/**
 * The load of a cell as Kubernetes objects. Each client's environment is the lab's own plan
 * (planFleet, with the front's Service as the target): k6 groups become k6-operator TestRuns (one
 * runner per client; the operator passes each its --execution-segment, as the lab's k6 driver
 * does), Node-client groups (tcp, autocannon) become Indexed Jobs, one completion per client.
 */

/** The ConfigMap holding loadtests/k6/fib.js for every TestRun of the cell. */
export const K6_SCRIPT_CONFIGMAP = "k6-script";
export const K6_SCRIPT_KEY = "fib.js";
/** The loadclient image's command (loadtests/client/Dockerfile, CMD). */
export const LOADCLIENT_COMMAND = "node /app/dist/loadtests/client/src/main.js";
/** Where a client pod finds the per-client part of its environment. */
export const PER_CLIENT_DIR = "/etc/fiblab/clients";
/** The Job controller's annotation with the pod's completion index (also JOB_COMPLETION_INDEX). */
export const COMPLETION_INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index";
/** The job-name label every pod of a Job carries; the operator names runner jobs <TestRun>-<index>. */
const JOB_NAME_LABEL = "job-name";
/** Env var holding the runner's job name, for its results folder. */
export const RUNNER_ENV = "FIBLAB_RUNNER";

/** Where a cell's clients write in the results claim: the archive's own layout. */
export function clientsPath(cellId: string): string {
  return `cells/${cellId}/clients`;
}

/** Each client of the cell as a lab run would launch it: the same planFleet, its seed the run's (expansion seed + cell order). */
export function planCellClients(ctx: CellContext): ClientSpec[] {
  const { cell, opts } = ctx;
  const specs = planFleet(
    {
      runId: "k8s",
      cellId: cell.id,
      network: "",
      outDir: OUT_DIR,
      groups: cell.workload.groups.map((g) => ({ ...g, load: resolveLoad(g.load, opts.capacity ?? null).load })),
      durationMs: cell.workload.durationMs,
      warmupMs: cell.workload.warmupMs,
      seed: opts.seed + cell.order,
      target: DEFAULT_TARGET,
    },
    opts.startAt ?? 0,
  );
  if (opts.startAt === undefined) for (const s of specs) delete s.env.START_AT;
  return specs;
}

/** The variables every client of a group shares, and each client's own (those that differ between them). */
export function splitEnv(envs: Record<string, string>[]): { common: Record<string, string>; perClient: Record<string, string>[] } {
  const keys = new Set(envs.flatMap((e) => Object.keys(e)));
  const varying = [...keys].filter((k) => envs.some((e) => e[k] !== envs[0]?.[k]));
  const common: Record<string, string> = {};
  for (const k of keys) if (!varying.includes(k) && envs[0]?.[k] !== undefined) common[k] = envs[0][k];
  const perClient = envs.map((e) => Object.fromEntries(varying.filter((k) => e[k] !== undefined).map((k) => [k, e[k] as string])));
  return { common, perClient };
}

const shellQuote = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;

/** One client's own variables as a file the wrapper sources (`export KEY='value'` lines). */
export function envFile(env: Record<string, string>): string {
  return Object.keys(env)
    .sort()
    .map((k) => `export ${k}=${shellQuote(env[k] as string)}\n`)
    .join("");
}

const groupMemory = `${CLIENT_MEMORY_BYTES / (1024 * 1024)}m`;

function groupLabels(group: Group): Record<string, string> {
  return { [LABEL.group]: labelValue(group.name) };
}

function resultsVolume(ctx: CellContext) {
  return { name: "results", persistentVolumeClaim: { claimName: ctx.opts.resultsClaim } };
}

/** A k6 group: one TestRun, `parallelism` = clients; every runner gets the group's totals (the lab's K6Env). */
function k6TestRun(ctx: CellContext, group: Group, clients: ClientSpec[]): K8sObject {
  const { common, perClient } = splitEnv(clients.map((c) => c.env));
  const differs = [...new Set(perClient.flatMap((e) => Object.keys(e)))].filter((k) => k !== "CLIENT_INDEX");
  // The operator gives every runner the same environment: only the segment (its own) and CLIENT_INDEX may differ.
  if (differs.length) throw new Error(`k6 group ${group.name}: clients differ in ${differs.join(", ")}; a TestRun cannot say that`);
  const name = dnsLabel(group.name, 40);
  const podMeta = meta(ctx, name, "client", groupLabels(group));
  const pod = {
    image: imageRef("k6", ctx.opts.registry),
    ...pullPolicy(ctx.opts.registry),
    env: envList(common),
    resources: resources(group.clients.cpus, groupMemory),
    securityContext: podSecurity(),
    containerSecurityContext: containerSecurity(),
    metadata: { labels: podMeta.labels as Record<string, string>, annotations: podMeta.annotations as Record<string, string> },
  };
  return {
    apiVersion: "k6.io/v1alpha1",
    kind: "TestRun",
    metadata: podMeta,
    spec: {
      parallelism: group.clients.count,
      script: { configMap: { name: K6_SCRIPT_CONFIGMAP, file: K6_SCRIPT_KEY } },
      // The operator adds run, --quiet, the execution segment, the script, --address, --paused and two tags.
      arguments: [...K6_OUTPUT_ARGS, "--summary-export", `${OUT_DIR}/summary.json`, "--no-usage-report", "--no-color"].join(" "),
      runner: {
        ...pod,
        env: [...pod.env, { name: RUNNER_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_NAME_LABEL}']` } } }],
        volumes: [TMP_VOLUME, resultsVolume(ctx)],
        volumeMounts: [TMP_MOUNT, { name: "results", mountPath: OUT_DIR, subPathExpr: `${clientsPath(ctx.cell.id)}/$(${RUNNER_ENV})` }],
      },
      // Without this the initializer (k6 archive + inspect) would copy the runner, results folder included.
      initializer: { ...pod, volumes: [TMP_VOLUME], volumeMounts: [TMP_MOUNT] },
    },
  };
}

/** The wrapper of a Node client pod: its own variables, then the image's command. */
function clientWrapper(): string {
  return `set -eu\n. "${PER_CLIENT_DIR}/$CLIENT_INDEX.env"\nexec ${LOADCLIENT_COMMAND}\n`;
}

/** A tcp or autocannon group: an Indexed Job of `clients.count` pods; CLIENT_INDEX is the completion index. */
function nodeClientObjects(ctx: CellContext, group: Group, clients: ClientSpec[]): K8sObject[] {
  const { common, perClient } = splitEnv(clients.map((c) => c.env));
  delete common.CLIENT_INDEX;
  const name = `client-${dnsLabel(group.name, 50)}`;
  const podMeta = meta(ctx, name, "client", groupLabels(group));
  const configMap: K8sObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: podMeta,
    data: Object.fromEntries(
      perClient.map((env, i) => [`${i}.env`, envFile(Object.fromEntries(Object.entries(env).filter(([k]) => k !== "CLIENT_INDEX")))]),
    ),
  };
  const indexEnv = {
    name: "CLIENT_INDEX",
    valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX_ANNOTATION}']` } },
  };
  const job: K8sObject = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: podMeta,
    spec: {
      completionMode: "Indexed",
      completions: group.clients.count,
      parallelism: group.clients.count,
      backoffLimit: 0,
      template: {
        metadata: { labels: podMeta.labels, annotations: podMeta.annotations },
        spec: {
          restartPolicy: "Never",
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurity(),
          containers: [
            {
              name: "loadclient",
              image: imageRef("loadclient", ctx.opts.registry),
              ...pullPolicy(ctx.opts.registry),
              command: ["/bin/sh", "-c", clientWrapper()],
              env: [indexEnv, ...envList(common)],
              resources: resources(group.clients.cpus, groupMemory),
              securityContext: containerSecurity(),
              volumeMounts: [
                TMP_MOUNT,
                { name: "results", mountPath: OUT_DIR, subPathExpr: `${clientsPath(ctx.cell.id)}/${group.name}-$(CLIENT_INDEX)` },
                { name: "per-client", mountPath: PER_CLIENT_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [TMP_VOLUME, resultsVolume(ctx), { name: "per-client", configMap: { name } }],
        },
      },
    },
  };
  return [configMap, job];
}

/** The load objects of a cell: the k6 script's ConfigMap (when a group uses k6), then each group's. */
export function loadObjects(ctx: CellContext, k6Script: string): K8sObject[] {
  const clients = planCellClients(ctx);
  const groups = ctx.cell.workload.groups;
  const out: K8sObject[] = [];
  if (groups.some((g) => g.tool === "k6")) {
    out.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(ctx, K6_SCRIPT_CONFIGMAP, "client"),
      data: { [K6_SCRIPT_KEY]: k6Script },
    });
  }
  for (const group of groups) {
    const mine = clients.filter((c) => c.group === group.name).sort((a, b) => a.clientIndex - b.clientIndex);
    if (group.tool === "k6") out.push(k6TestRun(ctx, group, mine));
    else out.push(...nodeClientObjects(ctx, group, mine));
  }
  return out;
}
