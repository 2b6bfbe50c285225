import type { Deployment } from "../docker/compose.js";
import { cellLabels } from "../docker/labels.js";
import type { Engine } from "../engine/index.js";
import { summariseCell } from "../measure/cell-summary.js";
import {
  capacityFor,
  fibArgs,
  probeKey,
  resolveLoad,
  type CapacityProbe,
  type ProbeRecord,
  type RelativeRateRecord,
} from "../measure/limits.js";
import { findModel } from "../models/catalog.js";
import type { Manifest } from "../models/manifest.js";
import type { Cell } from "../scenario/expand.js";
import { isRelativeLoad, type Group, type Probe, type Scenario, type Topology, type Workload } from "../scenario/schema.js";
import { tryParseDuration } from "../scenario/duration.js";
import type { RunDir } from "../archive/run-dir.js";
import { measuredBy, runCellFleet } from "./fleet.js";
import { measureServiceTimes } from "./service-time.js";
import { verifyModel } from "./verify.js";

/**
 * The run's reference points, measured before its cells, once per model and topology: t(n) for
 * every fib n the scenario asks for, and the saturation throughput of every group whose rate is
 * a share of it ("80%"). Each shape is then loaded at the same utilisation of its own capacity
 * instead of one absolute rate that is light for some and overload for others.
 */

export const DEFAULT_PROBE: Probe = { duration: "6s", warmup: "2s" };
const MIN_CONNECTIONS = 8;
const CONNECTIONS_PER_PROCESS = 4;

export function probeSettings(scenario: Scenario): Probe | null {
  const relative = scenario.workloads.some((w) => w.groups.some((g) => isRelativeLoad(g.load)));
  return scenario.probe ?? (relative ? DEFAULT_PROBE : null);
}

/** Processes serving in one replica: the topology's workers, else the model's WORKERS default, else one. */
export function processesPerReplica(manifest: Pick<Manifest, "knobs">, topology: Pick<Topology, "workers">): number {
  const knob = manifest.knobs.WORKERS?.default;
  return topology.workers ?? (typeof knob === "number" ? knob : 1);
}

export function probeConnections(probe: Probe, manifest: Pick<Manifest, "knobs">, topology: Topology): number {
  return (
    probe.connections ?? Math.max(MIN_CONNECTIONS, CONNECTIONS_PER_PROCESS * topology.replicas * processesPerReplica(manifest, topology))
  );
}

/** The pairs to probe, in the order the cells first need them, with the workloads their cells run. */
export function probePairs(cells: readonly Cell[]): { model: string; topology: Topology; workloads: Workload[] }[] {
  const pairs = new Map<string, { model: string; topology: Topology; workloads: Workload[] }>();
  for (const c of cells) {
    const key = probeKey(c.model, c.topology.id);
    const pair = pairs.get(key) ?? { model: c.model, topology: c.topology, workloads: [] };
    if (!pair.workloads.some((w) => w.name === c.workload.name)) pair.workloads.push(c.workload);
    pairs.set(key, pair);
  }
  return [...pairs.values()];
}

export interface ProbeContext {
  /** Where the pairs are deployed and loaded (engine/). */
  engine: Engine;
  run: RunDir;
  scenario: Scenario;
  catalog: Manifest[];
  probe: Probe;
  seed: number;
  signal: AbortSignal | undefined;
  /** A deployment of the pair, labelled with `id` as its cell. */
  deploy(model: string, topology: Topology, id: string, index: number): Promise<Deployment>;
  /** The deployment that is up, for the caller's cleanup. */
  current: { d?: Deployment };
  log(message: string): void;
}

function probeWorkload(w: Workload, g: Group, probe: Probe, connections: number): Workload {
  const durationMs = tryParseDuration(probe.duration) as number;
  const warmupMs = tryParseDuration(probe.warmup) as number;
  const group: Group = { ...g, load: { model: "closed", connections, pipelining: 1 } };
  return { name: `probe-${w.name}`, duration: probe.duration, warmup: probe.warmup, durationMs, warmupMs, groups: [group], events: [] };
}

/** One group's closed loop on the pair's deployment; the cell's id is the deployment's, so the sampler sees its containers. */
async function probeGroup(
  ctx: ProbeContext,
  connections: number,
  d: Deployment,
  cell: Cell,
  manifest: Manifest,
  source: { w: Workload; g: Group },
): Promise<CapacityProbe> {
  const base = { workload: source.w.name, group: source.g.name, connections };
  const folder = `probes/${cell.id}.${source.w.name}.${source.g.name}`;
  const fleet = await runCellFleet({
    engine: ctx.engine,
    cell,
    runId: ctx.run.id,
    network: ctx.engine.network(d),
    outDir: await ctx.run.mkdir(`${folder}/clients`),
    labels: cellLabels(ctx.run.id, cell.id),
    seed: ctx.seed,
    deployment: d,
    manifest,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  const summary = summariseCell({
    cell,
    ...measuredBy(fleet),
  });
  await ctx.run.writeJson(`${folder}/summary.json`, summary);
  const s = summary.groups[0];
  const error = fleet.errors.length > 0 ? `load clients failed: ${fleet.errors.join("; ")}` : undefined;
  return {
    ...base,
    throughput: error ? null : (s?.throughput ?? null),
    errorsTotal: s?.errorsTotal ?? 0,
    clientBound: s?.clientBound ?? false,
    machineBusy: summary.machineBusy,
    ...(error ? { error } : {}),
  };
}

/** The groups whose rate is relative, each probed on its own. */
function relativeGroups(workloads: readonly Workload[]): { w: Workload; g: Group }[] {
  return workloads.flatMap((w) => w.groups.filter((g) => isRelativeLoad(g.load)).map((g) => ({ w, g })));
}

async function probePair(ctx: ProbeContext, pair: ReturnType<typeof probePairs>[number], index: number): Promise<ProbeRecord> {
  const manifest = findModel(ctx.catalog, pair.model);
  const id = `probe.${probeKey(pair.model, pair.topology.id)}`;
  const record: ProbeRecord = {
    model: pair.model,
    topology: pair.topology.id,
    cpuBudget: pair.topology.replicas * pair.topology.cpus,
    replicas: pair.topology.replicas,
    processesPerReplica: processesPerReplica(manifest, pair.topology),
    serviceTimes: [],
    capacity: [],
  };
  const d = await ctx.deploy(pair.model, pair.topology, id, index);
  ctx.current.d = d;
  try {
    await ctx.engine.deploy(d);
    const v = await verifyModel(manifest.protocols, { http: d.httpPort, tcp: d.tcpPort });
    if (!v.ok) return { ...record, error: "the model did not verify" };
    const ns = [...new Set(pair.workloads.flatMap((w) => w.groups.flatMap((g) => fibArgs(g.request))))].sort((a, b) => a - b);
    const timed = await measureServiceTimes(ctx.engine, d, manifest, ns);
    record.serviceTimes = timed.times;
    if (timed.error) ctx.log(`${id}: ${timed.error}`);
    const connections = probeConnections(ctx.probe, manifest, pair.topology);
    for (const source of relativeGroups(pair.workloads)) {
      if (ctx.signal?.aborted) break;
      const workload = probeWorkload(source.w, source.g, ctx.probe, connections);
      const cell: Cell = { id, key: id, order: index, model: pair.model, topology: pair.topology, workload, repeat: 1 };
      record.capacity.push(await probeGroup(ctx, connections, d, cell, manifest, source));
    }
    return timed.error && record.serviceTimes.length === 0 && ns.length > 0 ? { ...record, error: timed.error } : record;
  } catch (e) {
    return { ...record, error: `probe failed: ${(e as { all?: string }).all ?? (e as Error).message}`.slice(0, 2000) };
  } finally {
    await ctx.engine.teardown(d);
    ctx.current.d = undefined;
  }
}

/** Every pair's probe, archived as probes.json; the cells read their capacities from it. */
export async function runProbes(ctx: ProbeContext, cells: readonly Cell[]): Promise<ProbeRecord[]> {
  const records: ProbeRecord[] = [];
  for (const [i, pair] of probePairs(cells).entries()) {
    if (ctx.signal?.aborted) break;
    ctx.log(`probe ${i + 1}: ${pair.model} ${pair.topology.id}`);
    records.push(await probePair(ctx, pair, i));
    await ctx.run.writeJson("probes.json", records);
  }
  return records;
}

/**
 * The cell as its clients run it: every relative rate resolved against its probe. Throws when a
 * probe measured nothing for a group that needs it (the cell is then recorded as failed).
 */
export function resolveCell(
  cell: Cell,
  records: readonly ProbeRecord[],
): { cell: Cell; relativeRates: Record<string, RelativeRateRecord> } {
  const relativeRates: Record<string, RelativeRateRecord> = {};
  const groups = cell.workload.groups.map((g) => {
    if (!isRelativeLoad(g.load)) return g;
    const r = resolveLoad(g.load, capacityFor(records, cell.model, cell.topology.id, cell.workload.name, g.name));
    if (r.relative) relativeRates[g.name] = r.relative;
    return { ...g, load: r.load };
  }) as Workload["groups"];
  return { cell: { ...cell, workload: { ...cell.workload, groups } }, relativeRates };
}
