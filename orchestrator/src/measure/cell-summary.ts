import { z } from "zod";
import type { Cell } from "../scenario/expand.js";
import {
  LoadModelSchema,
  LoadSchema,
  ProtocolSchema,
  RequestMixSchema,
  ToolSchema,
  TopologyRecordSchema,
  type Group,
} from "../scenario/schema.js";
import type { ClientResult } from "../../../loadtests/contract/result.js";
import { EventRecordSchema, type EventRecord } from "../events/record.js";
import {
  clientUsage,
  ClientUsageSchema,
  ContainerStatsSchema,
  roleUsage,
  RoleUsageSchema,
  type ClientUsage,
  type ContainerStats,
} from "./container-stats.js";
import { encode, LatencySummarySchema, merge, SendLagSummarySchema, summarise, summariseLag } from "./histogram.js";
import { HostUsageSchema, type HostUsage } from "./host-usage.js";
import { CellMemorySchema, type CellMemory } from "./memory.js";
import { PlacementSchema, type Placement } from "./placement.js";
import { eventOutcomes, EventOutcomeSchema } from "./recovery.js";
import { populationCv } from "./stats.js";
import { absoluteLoad, RelativeRateRecordSchema, type RelativeRateRecord } from "./limits.js";
import {
  buildTimeSeries,
  TimeSeriesSchema,
  type BuiltTimeSeries,
  type ContainerSeries,
  type ReplicaTick,
  type TimeSeries,
} from "./timeseries.js";
import { CLIENT_CPU_SHARE, CLIENT_THROTTLED_SHARE, DELIVERY_THRESHOLD, MACHINE_BUSY_CORES, SKEW_NOTE_SHARE } from "./thresholds.js";

/**
 * The summary of one cell (one repeat of model x topology x workload), as archived in
 * <run>/cells/<cell id>/summary.json. Every figure says which load model produced it: an open
 * model's throughput is the rate it offered (if delivered), a closed model's is what the server
 * managed at that concurrency; they are not comparable with each other.
 */

export { DELIVERY_THRESHOLD } from "./thresholds.js";

export const EvennessSchema = z.object({
  /** Distinct units (replicas or processes) that answered, plus expected ones that never did. */
  units: z.number().int().nonnegative(),
  minShare: z.number(),
  maxShare: z.number(),
  /** maxShare / minShare; null when a unit got nothing. 1 is perfectly even. */
  maxMinRatio: z.number().nullable(),
  /** The busiest unit's count over the mean count (maxShare × units); 1 is perfectly even. Absent in older runs. */
  maxMeanRatio: z.number().optional(),
  /** Coefficient of variation of the counts; 0 is perfectly even. */
  cv: z.number().nullable(),
});
export type Evenness = z.infer<typeof EvennessSchema>;

export const WorkerSpreadSchema = z.object({
  /** Replies per X-Worker value, merged over the group's clients. */
  counts: z.record(z.string(), z.number().int().nonnegative()),
  /** Over replicas (the hostname part of X-Worker); replicas that never answered count as 0. */
  byReplica: EvennessSchema.nullable(),
  /** Over processes (hostname/pid). */
  byProcess: EvennessSchema.nullable(),
});
export type WorkerSpread = z.infer<typeof WorkerSpreadSchema>;

/** A group as its scenario defines it: what a cell's and a run's summaries both say of it. */
export const GroupDefinitionSchema = z.object({
  group: z.string(),
  protocol: ProtocolSchema,
  tool: ToolSchema,
  loadModel: LoadModelSchema,
  load: LoadSchema,
  request: RequestMixSchema,
});

export const GroupSummarySchema = GroupDefinitionSchema.extend({
  clients: z.object({
    expected: z.number().int(),
    reported: z.number().int(),
    /** The CPU limit per client the scenario asked for. */
    cpus: z.number(),
    /** Each client container's CPU against its limit, from the container sampler. */
    usage: z.array(ClientUsageSchema),
  }),
  /**
   * A client went over CLIENT_CPU_SHARE of its CPU limit or was throttled in more than
   * CLIENT_THROTTLED_SHARE of its CFS periods: these figures measure the client, not the server.
   */
  clientBound: z.boolean(),
  /** Which client(s) and why; null when not client-bound. */
  clientBoundReason: z.string().nullable(),
  /**
   * Union of the clients' measurement windows (earliest start to latest end): a late or early
   * client can only lower the throughput, never inflate it. overlapMs is the span every client
   * covered; the difference is the skew.
   */
  window: z.object({ startedAt: z.number(), endedAt: z.number(), ms: z.number(), overlapMs: z.number(), skewMs: z.number() }).nullable(),
  requests: z.object({ sent: z.number().int(), completed: z.number().int(), ok: z.number().int() }),
  /** ok replies per second over the window; null when no client reported. */
  throughput: z.number().nullable(),
  /** Sends per second over the window. */
  sendRate: z.number().nullable(),
  /** Open model: the planned sends (rate x duration); null for the closed model. */
  plannedSends: z.number().nullable(),
  errors: z.record(z.string(), z.number().int().nonnegative()),
  errorsTotal: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  /** Open model only: some of the planned load was never sent, so latency understates the truth. */
  loadNotDelivered: z.boolean(),
  latency: LatencySummarySchema.nullable(),
  /** The merged histogram (microseconds, compressed base64), for later re-analysis. */
  histogram: z.string(),
  /**
   * Open model, where the tool measures it (the TCP client): how late sends left behind their
   * intended time, merged over clients. Latency counts from the intended time, so it includes this.
   */
  sendLag: SendLagSummarySchema.nullable(),
  /** The merged send-lag histogram (µs, compressed base64); null when no client reported one. */
  sendLagHistogram: z.string().nullable(),
  workers: WorkerSpreadSchema,
  /** Open model written as a share of the probed capacity ("80%"): what it was resolved against. */
  relativeRate: RelativeRateRecordSchema.nullable().default(null),
  notes: z.array(z.string()),
});
export type GroupSummary = z.infer<typeof GroupSummarySchema>;

export const CellStatusSchema = z.enum(["ok", "failed"]);

export const CellSummarySchema = z.object({
  id: z.string(),
  key: z.string(),
  order: z.number().int().nonnegative(),
  model: z.string(),
  topology: TopologyRecordSchema,
  workload: z.string(),
  repeat: z.number().int().positive(),
  durationMs: z.number(),
  warmupMs: z.number(),
  /** A failed cell (model did not verify, clients crashed) is recorded, never averaged in. */
  status: CellStatusSchema,
  error: z.string().optional(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  groups: z.array(GroupSummarySchema),
  containers: z.array(ContainerStatsSchema),
  usage: z.object({ model: RoleUsageSchema, front: RoleUsageSchema, client: RoleUsageSchema }),
  /** replicas x cpus per replica. */
  cpuBudget: z.number(),
  /** The host's CPU over the cell's window beside the cell's own; null when not measured. */
  host: HostUsageSchema.nullable(),
  /** More than MACHINE_BUSY_CORES of a core was used outside the run during the window. */
  machineBusy: z.boolean(),
  /** From `up` to the first correct answer through the front, per protocol, ms (null: none before verification). */
  coldStartMs: z.record(ProtocolSchema, z.number().nullable()).default({}),
  /**
   * Second by second over the measurement window (second 0 = its start): per group ok, errors by
   * kind, p50 and p99 of the clients' merged per-second histograms; the model's and the front's
   * CPU, throttling, memory, processes, restarts and running replicas. Null when no client
   * reported per-second figures. The seconds' histograms are in cells/<id>/timeseries.json.
   */
  timeseries: TimeSeriesSchema.nullable().default(null),
  /** The scripted events as the orchestrator carried them out (run/events.ts). */
  events: z.array(EventRecordSchema).default([]),
  /** What each event did, per group (measure/recovery.ts). */
  eventOutcomes: z.array(EventOutcomeSchema).default([]),
  /**
   * The model containers' memory read once at the window's end: PSS and RSS summed over every
   * process (measure/memory.ts) beside each cgroup's charge. Null when not read (older runs too).
   */
  memory: CellMemorySchema.nullable().default(null),
  /** Where the model's replicas, the front and each client ran (absent in runs before engines). */
  placements: z.array(PlacementSchema).optional(),
  notes: z.array(z.string()),
});
export type CellSummary = z.infer<typeof CellSummarySchema>;

export interface CellInput {
  cell: Pick<Cell, "id" | "key" | "order" | "model" | "topology" | "workload" | "repeat">;
  results: readonly ClientResult[];
  containers?: readonly ContainerStats[];
  /** The container sampler's window; defaults to the union of the client windows. */
  containersWindowMs?: number;
  /** The host's CPU over the cell's window (host-usage.ts). */
  host?: HostUsage;
  coldStartMs?: Partial<Record<"http" | "tcp", number | null>>;
  /** The scripted events carried out during the cell. */
  events?: EventRecord[];
  /** The container sampler's per-sample series and replica ticks (docker/sampler.ts, SampledWindow). */
  containerSeries?: readonly ContainerSeries[];
  replicaTicks?: readonly ReplicaTick[];
  /** The model containers' memory at the window's end (docker/procs.ts). */
  memory?: CellMemory;
  placements?: readonly Placement[];
  status?: z.infer<typeof CellStatusSchema>;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
  notes?: readonly string[];
  /** Per group: the probed capacity its relative rate was resolved against (run/probe.ts). */
  relativeRates?: Readonly<Record<string, RelativeRateRecord>>;
}

function addInto(target: Record<string, number>, source: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(source)) target[k] = (target[k] ?? 0) + v;
}

/** Evenness of counts over units; `expected` adds units that never showed up as zeros. */
export function evenness(counts: Readonly<Record<string, number>>, expected = 0): Evenness | null {
  const values = Object.values(counts);
  for (let i = values.length; i < expected; i++) values.push(0);
  const total = values.reduce((a, b) => a + b, 0);
  if (values.length === 0 || total === 0) return null;
  const min = Math.min(...values);
  const max = Math.max(...values);
  return {
    units: values.length,
    minShare: min / total,
    maxShare: max / total,
    maxMinRatio: min > 0 ? max / min : null,
    maxMeanRatio: max / (total / values.length),
    cv: populationCv(values),
  };
}

/** X-Worker is "<hostname>/<pid>[/<thread or task>]": counts per replica (parts 1) or per process (parts 2). */
export function rollUp(counts: Readonly<Record<string, number>>, parts: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [worker, n] of Object.entries(counts)) {
    const unit = worker.split("/").slice(0, parts).join("/");
    out[unit] = (out[unit] ?? 0) + n;
  }
  return out;
}

export function workerSpread(counts: Readonly<Record<string, number>>, expectedReplicas: number): WorkerSpread {
  if (Object.keys(counts).length === 0) return { counts: {}, byReplica: null, byProcess: null };
  return {
    counts: { ...counts },
    byReplica: evenness(rollUp(counts, 1), expectedReplicas),
    byProcess: evenness(rollUp(counts, 2)),
  };
}

type GroupWindow = GroupSummary["window"];

/** The union of the client windows; notes a skew beyond SKEW_NOTE_SHARE. */
function groupWindow(results: readonly ClientResult[], notes: string[]): GroupWindow {
  if (results.length === 0) return null;
  const startedAt = Math.min(...results.map((r) => r.startedAt));
  const endedAt = Math.max(...results.map((r) => r.endedAt));
  const overlapMs = Math.max(0, Math.min(...results.map((r) => r.endedAt)) - Math.max(...results.map((r) => r.startedAt)));
  const ms = endedAt - startedAt;
  const window = { startedAt, endedAt, ms, overlapMs, skewMs: ms - overlapMs };
  if (ms > 0 && window.skewMs > SKEW_NOTE_SHARE * ms) {
    notes.push(
      `client windows are misaligned: ${ms} ms from first start to last end, only ${overlapMs} ms in common; throughput uses the former`,
    );
  }
  return window;
}

const share = (x: number) => `${(100 * x).toFixed(0)}%`;

/** Why a group is client-bound (null when it is not): every client over a threshold, by index. */
export function clientBoundReason(usage: readonly ClientUsage[]): string | null {
  const reasons: string[] = [];
  for (const u of usage) {
    const who = `client ${u.clientIndex ?? u.name}`;
    const over: string[] = [];
    if (u.cpuShare !== null && u.cpuShare > CLIENT_CPU_SHARE) over.push(`used ${share(u.cpuShare)} of its ${u.cpuLimit} cpu`);
    if (u.throttledShare !== null && u.throttledShare > CLIENT_THROTTLED_SHARE)
      over.push(`throttled in ${share(u.throttledShare)} of CFS periods`);
    if (over.length > 0) reasons.push(`${who} ${over.join(" and ")}`);
  }
  return reasons.length > 0 ? reasons.join("; ") : null;
}

/** The group's client containers, by the group and index the sampler recorded for them. */
function groupClientUsage(group: Group, containers: readonly ContainerStats[], windowMs: number | undefined): ClientUsage[] {
  return containers
    .filter((c) => c.role === "client" && c.group === group.name)
    .map((c) => clientUsage(c, group.clients.cpus, windowMs))
    .sort((a, b) => (a.clientIndex ?? 0) - (b.clientIndex ?? 0));
}

function checkClients(group: Group, results: readonly ClientResult[], notes: string[]): void {
  if (results.length < group.clients.count) notes.push(`${results.length} of ${group.clients.count} clients reported`);
  for (const r of results) {
    if (r.tool !== group.tool || r.loadModel !== group.load.model) {
      notes.push(`client ${r.clientIndex} reported ${r.tool}/${r.loadModel}, the scenario asked for ${group.tool}/${group.load.model}`);
    }
  }
}

interface GroupContext {
  durationMs: number;
  replicas: number;
  containers: readonly ContainerStats[];
  containersWindowMs: number | undefined;
  relativeRate?: RelativeRateRecord | null;
}

function summariseGroup(group: Group, results: readonly ClientResult[], ctx: GroupContext): GroupSummary {
  const notes: string[] = [];
  const load = absoluteLoad(group.load);
  const sum = (f: (r: ClientResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const requests = { sent: sum((r) => r.requests.sent), completed: sum((r) => r.requests.completed), ok: sum((r) => r.requests.ok) };
  const errors: Record<string, number> = {};
  const workers: Record<string, number> = {};
  for (const r of results) {
    addInto(errors, r.errors);
    addInto(workers, r.workers);
  }
  const errorsTotal = Object.values(errors).reduce((a, b) => a + b, 0);
  const dropped = sum((r) => r.dropped);
  const window = groupWindow(results, notes);
  const perSecond = (n: number) => (window && window.ms > 0 ? n / (window.ms / 1000) : null);
  checkClients(group, results, notes);

  const plannedSends = load.model === "open" ? (load.rate * ctx.durationMs) / 1000 : null;
  const loadNotDelivered = plannedSends !== null && (dropped > 0 || requests.sent < DELIVERY_THRESHOLD * plannedSends);
  if (loadNotDelivered) {
    notes.push(
      `open-model load not delivered: sent ${requests.sent} of ${Math.round(plannedSends ?? 0)} planned, ${dropped} dropped; latency understates what the planned load would see`,
    );
  }

  const merged = merge(results.map((r) => r.histogram).filter((h) => h.length > 0));
  const latency = summarise(merged);
  if (latency && latency.count !== requests.ok) {
    notes.push(`the merged histogram holds ${latency.count} values but clients counted ${requests.ok} ok replies`);
  }
  const lags = results.flatMap((r) => (r.sendLag ? [r.sendLag] : []));
  const lagMerged = lags.length > 0 ? merge(lags) : null;
  for (const r of results) for (const n of r.notes) if (!notes.includes(n)) notes.push(n);

  const spread = workerSpread(workers, ctx.replicas);
  if (spread.byReplica && Object.keys(rollUp(workers, 1)).length < ctx.replicas) {
    notes.push(`only ${Object.keys(rollUp(workers, 1)).length} of ${ctx.replicas} replicas answered`);
  }
  const usage = groupClientUsage(group, ctx.containers, ctx.containersWindowMs);
  const boundReason = clientBoundReason(usage);

  return {
    group: group.name,
    protocol: group.protocol,
    tool: group.tool,
    loadModel: load.model,
    load,
    relativeRate: ctx.relativeRate ?? null,
    request: group.request,
    clients: { expected: group.clients.count, reported: results.length, cpus: group.clients.cpus, usage },
    clientBound: boundReason !== null,
    clientBoundReason: boundReason,
    window,
    requests,
    throughput: perSecond(requests.ok),
    sendRate: perSecond(requests.sent),
    plannedSends,
    errors,
    errorsTotal,
    dropped,
    loadNotDelivered,
    latency,
    histogram: encode(merged),
    sendLag: lagMerged ? summariseLag(lagMerged) : null,
    sendLagHistogram: lagMerged ? encode(lagMerged) : null,
    workers: spread,
    notes,
  };
}

/**
 * The cell's per-second series, from the clients' intervals and the sampler's series; second 0 is
 * the earliest client's window start. Null when no client of the cell gave per-second figures.
 */
export function cellSeries(input: CellInput): BuiltTimeSeries | null {
  const { workload } = input.cell;
  const mine = input.results.filter((r) => workload.groups.some((g) => g.name === r.group));
  if (!mine.some((r) => r.intervals !== undefined)) return null;
  return buildTimeSeries({
    startedAt: Math.min(...mine.map((r) => r.startedAt)),
    durationMs: workload.durationMs,
    groups: workload.groups.map((g) => ({ group: g.name, loadModel: g.load.model, results: mine.filter((r) => r.group === g.name) })),
    ...(input.containerSeries ? { containers: input.containerSeries } : {}),
    ...(input.replicaTicks ? { replicas: input.replicaTicks } : {}),
  });
}

/**
 * cells/<id>/timeseries.json: the cell's seconds with each group's per-second merged histogram
 * (µs, compressed base64), for re-analysis; null when there are no per-second figures.
 */
export function timeseriesArchive(
  input: CellInput,
): { format: "fiblab-timeseries/1"; series: TimeSeries; histograms: Record<string, string[]> } | null {
  const built = cellSeries(input);
  return built ? { format: "fiblab-timeseries/1", series: built.series, histograms: built.histograms } : null;
}

/** Whether the host's CPU outside the run's containers crossed MACHINE_BUSY_CORES in the cell's window. */
export function isMachineBusy(host: HostUsage | null | undefined): boolean {
  return host !== null && host !== undefined && host.elsewhereCores > MACHINE_BUSY_CORES;
}

export function summariseCell(input: CellInput): CellSummary {
  const { cell } = input;
  const containers = [...(input.containers ?? [])];
  const mine = input.results.filter((r) => cell.workload.groups.some((g) => g.name === r.group));
  const windowMs =
    input.containersWindowMs ??
    (mine.length > 0 ? Math.max(...mine.map((r) => r.endedAt)) - Math.min(...mine.map((r) => r.startedAt)) : undefined);
  const ctx: GroupContext = {
    durationMs: cell.workload.durationMs,
    replicas: cell.topology.replicas,
    containers,
    containersWindowMs: windowMs,
  };
  const groups = cell.workload.groups.map((g) =>
    summariseGroup(
      g,
      input.results.filter((r) => r.group === g.name),
      { ...ctx, relativeRate: input.relativeRates?.[g.name] ?? null },
    ),
  );
  const notes = [...(input.notes ?? [])];
  const known = new Set(cell.workload.groups.map((g) => g.name));
  for (const name of new Set(input.results.map((r) => r.group))) {
    if (!known.has(name)) notes.push(`results for unknown group "${name}" were ignored`);
  }
  const usage = {
    model: roleUsage(containers, "model", windowMs),
    front: roleUsage(containers, "front", windowMs),
    client: roleUsage(containers, "client", windowMs),
  };
  if (usage.model.restarts > 0) notes.push(`model containers restarted ${usage.model.restarts} time(s) during the cell`);
  const built = cellSeries(input);
  const events = [...(input.events ?? [])];
  if (events.length > 0 && !built) notes.push("no client gave per-second figures: what the events did cannot be told");
  const memory = input.memory ?? null;
  if (memory && memory.unreadable > 0) {
    notes.push(
      `memory: ${memory.unreadable} model process(es) vanished or were unreadable at the reading; PSS sums the other ${memory.processes}`,
    );
  }
  return {
    id: cell.id,
    key: cell.key,
    order: cell.order,
    model: cell.model,
    topology: cell.topology,
    workload: cell.workload.name,
    repeat: cell.repeat,
    durationMs: cell.workload.durationMs,
    warmupMs: cell.workload.warmupMs,
    status: input.status ?? "ok",
    ...(input.error !== undefined ? { error: input.error } : {}),
    ...(input.startedAt !== undefined ? { startedAt: input.startedAt } : {}),
    ...(input.finishedAt !== undefined ? { finishedAt: input.finishedAt } : {}),
    groups,
    containers,
    usage,
    cpuBudget: cell.topology.replicas * cell.topology.cpus,
    host: input.host ?? null,
    machineBusy: isMachineBusy(input.host),
    coldStartMs: { ...input.coldStartMs },
    timeseries: built?.series ?? null,
    events,
    eventOutcomes: built ? eventOutcomes(built.series, events, built.histograms) : [],
    memory,
    ...(input.placements ? { placements: [...input.placements] } : {}),
    notes,
  };
}
