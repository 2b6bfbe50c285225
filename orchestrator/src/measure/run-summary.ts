import { z } from "zod";
import { TopologyRecordSchema, type Scenario } from "../scenario/schema.js";
import { CellStatusSchema, GroupDefinitionSchema, rollUp, type CellSummary, type GroupSummary } from "./cell-summary.js";
import { EventActionSchema } from "../events/record.js";
import { LatencySummarySchema, merge, SendLagSummarySchema, summarise, summariseLag, type LatencySummary } from "./histogram.js";
import { EventOutcomeSchema, type GroupOutcome } from "./recovery.js";
import { sampleStats, SampleStatsSchema, spreadOf, SpreadSchema } from "./stats.js";
import {
  capacityFor,
  cpuMsPerRequest,
  LimitSchema,
  physicalLimit,
  ProbeRecordSchema,
  RelativeRateRecordSchema,
  type ProbeRecord,
} from "./limits.js";
import { PredictionSchema, rowPrediction } from "./prediction.js";
import { TimeSeriesSchema } from "./timeseries.js";
import { EngineInfoSchema, PlacementSchema } from "./placement.js";
import { MACHINE_BUSY_CORES, NOISY_CV } from "./thresholds.js";

/**
 * The whole run, per model x topology x workload x group, aggregated over repeats: archived as
 * <run>/summary.json and the input of every report.
 */

/** Where the run happened. Filled by the lead's environment probe; unknown fields are kept. */
export const EnvironmentSchema = z
  .object({
    host: z.string().optional(),
    os: z.string().optional(),
    kernel: z.string().optional(),
    cpuModel: z.string().optional(),
    cores: z.number().optional(),
    memoryBytes: z.number().optional(),
    dockerVersion: z.string().optional(),
    /** The engine's cgroup version ("1" or "2"): CPU and throttling counters differ between them. */
    cgroupVersion: z.string().optional(),
    storageDriver: z.string().optional(),
    nodeVersion: z.string().optional(),
    gitCommit: z.string().optional(),
    gitDirty: z.boolean().optional(),
    images: z.record(z.string(), z.string()).optional(),
    /** The engine the cells ran on and its nodes (absent in runs before engines: compose). */
    engine: EngineInfoSchema.optional(),
  })
  .passthrough();
export type Environment = z.infer<typeof EnvironmentSchema>;

const Counts = z.record(z.string(), z.number().int().nonnegative());

/** One scripted event of a row's workload, over the row's ok repeats (measure/recovery.ts per repeat). */
export const RowEventSchema = z.object({
  index: z.number().int().nonnegative(),
  action: EventActionSchema,
  /** Ok repeats in which the event was carried out and analysed. */
  repeats: z.number().int().nonnegative(),
  /** Repeats in which the action itself reported an error. */
  failedActions: z.number().int().nonnegative(),
  recovered: z.number().int().nonnegative(),
  didNotRecover: z.number().int().nonnegative(),
  /** Repeats with no usable baseline (nothing served before the event) or with the event outside the window. */
  notJudged: z.number().int().nonnegative(),
  /** Time to recover over the repeats that recovered, ms. */
  recoveryMs: SampleStatsSchema,
  /** Errors inside the event's window, summed over repeats, by kind; of them, the requests that got no reply. */
  errors: Counts,
  errorsTotal: z.number().int().nonnegative(),
  noReply: Counts,
  noReplyTotal: z.number().int().nonnegative(),
  /** scale: from the command to the new capacity serving, ms, over the repeats where it served; and where it never did. */
  capacityServingMs: SampleStatsSchema,
  capacityNeverServed: z.number().int().nonnegative(),
  /** kill-worker, kill-container: from the event until the replacement was there, ms, where it came. */
  replacementMs: SampleStatsSchema,
  /** The worst second (most errors) of any repeat's event window. */
  worstSecond: z.object({ repeat: z.number().int(), second: z.number().int(), errors: z.number().int(), ok: z.number().int() }).nullable(),
});
export type RowEvent = z.infer<typeof RowEventSchema>;

/** The model containers' memory over a row's ok repeats: a sum per repeat, so mean and min–max, not a percentile. */
export const RowMemorySchema = z.object({
  /** PSS summed over every model process, bytes: shared copy-on-write pages counted once. */
  pssBytes: SampleStatsSchema,
  /** RSS summed the same way: shared pages counted once per process that maps them. */
  rssBytes: SampleStatsSchema,
  /** The model containers' cgroup charges summed at the same reading (page cache and kernel memory included). */
  cgroupBytes: SampleStatsSchema,
  /** Model processes read per repeat. */
  processes: SampleStatsSchema,
  /** Processes listed but gone or unreadable at the reading, over all repeats. */
  unreadable: z.number().int().nonnegative(),
});
export type RowMemory = z.infer<typeof RowMemorySchema>;

/** One repeat's replies per process ("<hostname>/<pid>"), for the report's spread chart. */
export const RepeatSpreadSchema = z.object({
  repeat: z.number().int().positive(),
  byProcess: Counts,
});

/** One repeat of a cell key, second by second, for the report's charts. */
export const TimelineSchema = z.object({
  cellKey: z.string(),
  cellId: z.string(),
  model: z.string(),
  topology: TopologyRecordSchema,
  workload: z.string(),
  repeat: z.number().int().positive(),
  timeseries: TimeSeriesSchema,
  events: z.array(EventOutcomeSchema),
});
export type Timeline = z.infer<typeof TimelineSchema>;

export const RowSummarySchema = z.object({
  /** "<model>.<topology>.<workload>.<group>": the key reports and comparisons join on. */
  key: z.string(),
  cellKey: z.string(),
  model: z.string(),
  topology: TopologyRecordSchema,
  workload: z.string(),
  ...GroupDefinitionSchema.shape,
  clients: z.object({
    count: z.number().int(),
    cpus: z.number(),
    /** Over ok repeats: the cores all of the group's clients used, and the highest client's share of its limit and of throttled periods. */
    cores: SampleStatsSchema,
    maxCpuShare: SampleStatsSchema,
    maxThrottledShare: SampleStatsSchema,
  }),
  /** Repeats in which the group was client-bound: those figures measure the client, not the server. */
  clientBoundRepeats: z.number().int().nonnegative(),
  cpuBudget: z.number(),
  durationMs: z.number(),
  warmupMs: z.number(),
  /** Repeats that ran (status ok) and repeats that failed. */
  repeats: z.number().int().nonnegative(),
  failedRepeats: z.number().int().nonnegative(),
  /** ok replies per second, across repeats (a rate: its mean over repeats is meaningful). */
  throughput: SampleStatsSchema,
  /**
   * The headline latency: percentiles of one histogram merged over every client of every ok
   * repeat, i.e. the distribution of all the row's requests (ms). Never a mean of percentiles.
   */
  latency: LatencySummarySchema.nullable(),
  /** How each repeat's own percentile spread around it: range and interval only, no mean (ms). */
  latencySpread: z.object({ p50: SpreadSchema, p90: SpreadSchema, p99: SpreadSchema, p999: SpreadSchema, max: SpreadSchema }),
  /** Open model, TCP client: how late sends left, merged over clients and repeats (inside every latency above). */
  sendLag: SendLagSummarySchema.nullable(),
  sent: z.number().int().nonnegative(),
  ok: z.number().int().nonnegative(),
  errors: z.record(z.string(), z.number().int().nonnegative()),
  errorsTotal: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  /** Repeats in which an open model did not deliver its planned load. */
  loadNotDeliveredRepeats: z.number().int().nonnegative(),
  /** Repeats whose window saw more than MACHINE_BUSY_CORES used outside the run. */
  machineBusyRepeats: z.number().int().nonnegative(),
  /** Cores used on the host outside the run's containers, across the ok repeats that measured it. */
  hostElsewhereCores: SampleStatsSchema,
  /** From `up` to the first correct answer through the front on this row's protocol, ms, across repeats. */
  coldStartMs: SampleStatsSchema,
  /** Cores the model's containers used (cpu seconds / window), across repeats. */
  modelCores: SampleStatsSchema,
  modelThrottledPct: SampleStatsSchema,
  modelMemoryPeakBytes: z.number().nullable(),
  modelRestarts: z.number().int().nonnegative(),
  /** CV, max/min and max/mean of reply counts over replicas and over processes, across repeats (0 CV, ratios of 1 = even). */
  evenness: z.object({
    byReplicaCv: SampleStatsSchema,
    byProcessCv: SampleStatsSchema,
    byProcessMaxMin: SampleStatsSchema,
    /** Absent in older runs. */
    byProcessMaxMean: SampleStatsSchema.optional(),
    byReplicaMaxMean: SampleStatsSchema.optional(),
  }),
  /** Replies per process in each ok repeat (HTTP, from X-Worker); empty without X-Worker or in older runs. */
  spread: z.array(RepeatSpreadSchema).default([]),
  /** The model's memory at each ok repeat's window end; null when not read (older runs too). */
  memory: RowMemorySchema.nullable().default(null),
  /** The workload's scripted events, what each did to this group over the repeats. */
  events: z.array(RowEventSchema).default([]),
  /** An open rate written as a share of the probed capacity: what it was resolved against. */
  relativeRate: RelativeRateRecordSchema.nullable().default(null),
  /** The physical limit (cpuBudget ÷ CPU per request, from t(n) measured in the run) and the share of it served. */
  limit: LimitSchema.nullable().default(null),
  /** Queueing theory at this row's offered rate, beside what was measured (measure/prediction.ts). */
  prediction: PredictionSchema.nullable().default(null),
  /** Throughput CV across repeats above NOISY_CV: a finding built on this row says so. */
  noisy: z.boolean().default(false),
  notes: z.array(z.string()),
});
export type RowSummary = z.infer<typeof RowSummarySchema>;

export const RunSummarySchema = z.object({
  runId: z.string(),
  scenario: z.string(),
  description: z.string().optional(),
  seed: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string(),
  environment: EnvironmentSchema,
  /** The cells in run order. */
  cells: z.array(
    z.object({
      id: z.string(),
      key: z.string(),
      order: z.number().int(),
      status: CellStatusSchema,
      error: z.string().optional(),
      machineBusy: z.boolean(),
      /** Cores used on the host outside the run during the cell's window; null when not measured. */
      elsewhereCores: z.number().nullable(),
      /** Where its parts ran (absent in runs before engines). */
      placements: z.array(PlacementSchema).optional(),
    }),
  ),
  rows: z.array(RowSummarySchema),
  /** The run's probes: t(n) and saturation throughput per model and topology (run/probe.ts). */
  probes: z.array(ProbeRecordSchema).default([]),
  /** Per cell key, one repeat's per-second series and events (the first ok repeat that has them). */
  timelines: z.array(TimelineSchema).default([]),
  /** What `lab run --strict` refuses (runProblems); empty lists when the figures are the server's. */
  problems: z.object({ clientBound: z.array(z.string()), machineBusy: z.array(z.string()) }),
  notes: z.array(z.string()),
});
export type RunSummary = z.infer<typeof RunSummarySchema>;

export interface RunInput {
  runId: string;
  scenario: Scenario;
  seed: number;
  startedAt: string;
  finishedAt: string;
  environment: Environment;
  cells: readonly CellSummary[];
  notes?: readonly string[];
  probes?: readonly ProbeRecord[];
}

export function rowKey(cellKey: string, group: string): string {
  return `${cellKey}.${group}`;
}

const present = (xs: readonly (number | null | undefined)[]): number[] => xs.filter((x): x is number => typeof x === "number");

type Spreads = RowSummary["latencySpread"];

/** Each repeat's percentile, as a spread only: the headline is the merged histogram's. */
function latencySpread(groups: readonly GroupSummary[]): Spreads {
  const of = (f: (l: LatencySummary) => number) => spreadOf(present(groups.map((g) => (g.latency ? f(g.latency) : null))));
  return { p50: of((l) => l.p50), p90: of((l) => l.p90), p99: of((l) => l.p99), p999: of((l) => l.p999), max: of((l) => l.max) };
}

const sumOrNull = (xs: readonly (number | null)[]) => (xs.every((x) => x !== null) ? present(xs).reduce((a, b) => a + b, 0) : null);

function clientFigures(template: GroupSummary, groups: readonly GroupSummary[]): RowSummary["clients"] {
  const measured = groups.filter((g) => g.clients.usage.length > 0);
  const highest = (xs: readonly (number | null)[]) => (present(xs).length > 0 ? Math.max(...present(xs)) : null);
  return {
    count: template.clients.expected,
    cpus: template.clients.cpus,
    cores: sampleStats(present(measured.map((g) => sumOrNull(g.clients.usage.map((u) => u.cores))))),
    maxCpuShare: sampleStats(present(measured.map((g) => highest(g.clients.usage.map((u) => u.cpuShare))))),
    maxThrottledShare: sampleStats(present(measured.map((g) => highest(g.clients.usage.map((u) => u.throttledShare))))),
  };
}

const fixed = (x: number) => x.toFixed(2);

/** Row notes for the flags whose detail differs per repeat, each said once with the repeats it hit. */
function flagNotes(okCells: readonly CellSummary[], groupName: string): string[] {
  const notes: string[] = [];
  const bound = okCells.flatMap((c) =>
    c.groups.filter((g) => g.group === groupName && g.clientBound).map((g) => `r${c.repeat}: ${g.clientBoundReason}`),
  );
  if (bound.length > 0) {
    notes.push(
      `client-bound in ${bound.length} of ${okCells.length} repeats: these figures measure the client, not the server (${bound.join("; ")})`,
    );
  }
  const busy = okCells.filter((c) => c.machineBusy).map((c) => `r${c.repeat}: ${fixed(c.host?.elsewhereCores ?? 0)} cores`);
  if (busy.length > 0) {
    notes.push(
      `machine busy in ${busy.length} of ${okCells.length} repeats: more than ${MACHINE_BUSY_CORES} of a core was used outside this run during the window (${busy.join("; ")})`,
    );
  }
  return notes;
}

function baseNotes(cells: readonly CellSummary[], okCells: readonly CellSummary[], groups: readonly GroupSummary[]): string[] {
  const notes = [...new Set(groups.flatMap((g) => g.notes).concat(okCells.flatMap((c) => c.notes)))];
  const failed = cells.filter((c) => c.status !== "ok");
  if (failed.length > 0) notes.push(`${failed.length} repeat(s) failed: ${failed.map((c) => c.error ?? c.id).join("; ")}`);
  return notes;
}

function addCounts(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Per event of the workload, this group's outcomes over the ok repeats. */
export function rowEvents(okCells: readonly CellSummary[], groupName: string): RowEvent[] {
  const indices = [...new Set(okCells.flatMap((c) => c.eventOutcomes.map((o) => o.index)))].sort((a, b) => a - b);
  return indices.map((index) => {
    const seen = okCells.flatMap((c) => {
      const o = c.eventOutcomes.find((x) => x.index === index);
      const g = o?.groups.find((x) => x.group === groupName);
      return o && g ? [{ cell: c, o, g }] : [];
    });
    const errors: Record<string, number> = {};
    const noReply: Record<string, number> = {};
    let worst: RowEvent["worstSecond"] = null;
    for (const { cell, g } of seen) {
      addCounts(errors, g.errors);
      addCounts(noReply, g.noReply);
      const w = g.worstSecond;
      if (w && (!worst || w.errors > worst.errors)) worst = { repeat: cell.repeat, second: w.second, errors: w.errors, ok: w.ok };
    }
    const verdict = (v: GroupOutcome["verdict"]) => seen.filter((x) => x.g.verdict === v).length;
    const capacity = seen.map((x) => x.o.capacityServingMs);
    return {
      index,
      action: seen[0]?.o.action ?? "noise",
      repeats: seen.length,
      failedActions: seen.filter((x) => x.o.error !== undefined).length,
      recovered: verdict("recovered"),
      didNotRecover: verdict("did not recover"),
      notJudged: verdict("no baseline") + verdict("outside the window"),
      recoveryMs: sampleStats(present(seen.map((x) => x.g.recoveryMs))),
      errors,
      errorsTotal: seen.reduce((a, x) => a + x.g.errorsTotal, 0),
      noReply,
      noReplyTotal: seen.reduce((a, x) => a + x.g.noReplyTotal, 0),
      capacityServingMs: sampleStats(present(capacity)),
      capacityNeverServed: capacity.filter((x) => x === null).length,
      replacementMs: sampleStats(present(seen.map((x) => x.o.replacementMs))),
      worstSecond: worst,
    };
  });
}

/** Replies per process of each ok repeat whose group had X-Worker counts. */
export function repeatSpreads(okCells: readonly CellSummary[], groupName: string): z.infer<typeof RepeatSpreadSchema>[] {
  return [...okCells]
    .sort((a, b) => a.repeat - b.repeat)
    .flatMap((c) => {
      const counts = c.groups.find((g) => g.group === groupName)?.workers.counts ?? {};
      return Object.keys(counts).length > 0 ? [{ repeat: c.repeat, byProcess: rollUp(counts, 2) }] : [];
    });
}

/** The memory figures over the ok repeats that read it; null when none did. */
export function rowMemory(okCells: readonly CellSummary[]): RowMemory | null {
  const read = okCells.flatMap((c) => (c.memory && c.memory.processes > 0 ? [c.memory] : []));
  if (read.length === 0) return null;
  return {
    pssBytes: sampleStats(read.map((m) => m.pssBytes)),
    rssBytes: sampleStats(read.map((m) => m.rssBytes)),
    cgroupBytes: sampleStats(present(read.map((m) => m.cgroupBytes))),
    processes: sampleStats(read.map((m) => m.processes)),
    unreadable: read.reduce((a, m) => a + m.unreadable, 0),
  };
}

/** Per cell key, the first ok repeat that has a time series. */
export function timelines(cells: readonly CellSummary[]): Timeline[] {
  const out = new Map<string, Timeline>();
  for (const c of [...cells].sort((a, b) => a.repeat - b.repeat)) {
    if (c.status !== "ok" || !c.timeseries || out.has(c.key)) continue;
    out.set(c.key, {
      cellKey: c.key,
      cellId: c.id,
      model: c.model,
      topology: c.topology,
      workload: c.workload,
      repeat: c.repeat,
      timeseries: c.timeseries,
      events: c.eventOutcomes,
    });
  }
  return [...out.values()];
}

/** The row's reference figures: relative rate, physical limit, queueing prediction, noise. */
function referenceFigures(row: RowSummary, template: GroupSummary, probes: readonly ProbeRecord[], balance: Balance): Partial<RowSummary> {
  const probe = probes.find((p) => p.model === row.model && p.topology === row.topology.id);
  const relativeRate = template.relativeRate ?? null;
  const cpuMs = probe ? cpuMsPerRequest(row.request, probe.serviceTimes) : null;
  const limit = physicalLimit(row.cpuBudget, cpuMs, row.throughput.mean);
  const capacity = relativeRate?.capacity ?? capacityFor(probes, row.model, row.topology.id, row.workload, row.group);
  const prediction = probe
    ? rowPrediction({
        load: row.load,
        request: row.request,
        latency: row.latency,
        capacity,
        probe,
        balance: row.topology.balance ?? balance,
      })
    : null;
  const cv = row.throughput.cv;
  const noisy = cv !== null && cv > NOISY_CV;
  const notes = noisy
    ? [`noisy: throughput varied by ${(100 * cv).toFixed(1)}% (CV) across ${row.throughput.n} repeats, above ${100 * NOISY_CV}%`]
    : [];
  return { relativeRate, limit, prediction, noisy, notes: [...row.notes, ...notes] };
}

type Balance = "round_robin" | "least_conn";

function summariseRow(
  cells: readonly CellSummary[],
  groupName: string,
  probes: readonly ProbeRecord[] = [],
  balance: Balance = "round_robin",
): RowSummary {
  const first = cells[0];
  if (!first) throw new Error("a row needs at least one cell");
  const okCells = cells.filter((c) => c.status === "ok");
  const groups = okCells.flatMap((c) => c.groups.filter((g) => g.group === groupName));
  const template: GroupSummary | undefined = cells.flatMap((c) => c.groups).find((g) => g.group === groupName);
  if (!template) throw new Error(`no cell of ${first.key} has group ${groupName}`);
  const errors: Record<string, number> = {};
  for (const g of groups) for (const [k, v] of Object.entries(g.errors)) errors[k] = (errors[k] ?? 0) + v;
  const memory = present(okCells.map((c) => (c.usage.model.containers > 0 ? c.usage.model.memoryPeakBytes : null)));
  const lags = groups.flatMap((g) => (g.sendLagHistogram ? [g.sendLagHistogram] : []));
  const row: RowSummary = {
    key: rowKey(first.key, groupName),
    cellKey: first.key,
    model: first.model,
    topology: first.topology,
    workload: first.workload,
    group: groupName,
    protocol: template.protocol,
    tool: template.tool,
    loadModel: template.loadModel,
    load: template.load,
    request: template.request,
    clients: clientFigures(template, groups),
    clientBoundRepeats: groups.filter((g) => g.clientBound).length,
    cpuBudget: first.cpuBudget,
    durationMs: first.durationMs,
    warmupMs: first.warmupMs,
    repeats: okCells.length,
    failedRepeats: cells.length - okCells.length,
    throughput: sampleStats(present(groups.map((g) => g.throughput))),
    latency: summarise(merge(groups.map((g) => g.histogram))),
    latencySpread: latencySpread(groups),
    sendLag: lags.length > 0 ? summariseLag(merge(lags)) : null,
    sent: groups.reduce((a, g) => a + g.requests.sent, 0),
    ok: groups.reduce((a, g) => a + g.requests.ok, 0),
    errors,
    errorsTotal: groups.reduce((a, g) => a + g.errorsTotal, 0),
    dropped: groups.reduce((a, g) => a + g.dropped, 0),
    loadNotDeliveredRepeats: groups.filter((g) => g.loadNotDelivered).length,
    machineBusyRepeats: okCells.filter((c) => c.machineBusy).length,
    hostElsewhereCores: sampleStats(present(okCells.map((c) => c.host?.elsewhereCores))),
    coldStartMs: sampleStats(present(okCells.map((c) => c.coldStartMs[template.protocol]))),
    modelCores: sampleStats(present(okCells.map((c) => c.usage.model.cores))),
    modelThrottledPct: sampleStats(present(okCells.map((c) => c.usage.model.throttledPct))),
    modelMemoryPeakBytes: memory.length > 0 ? Math.max(...memory) : null,
    modelRestarts: okCells.reduce((a, c) => a + c.usage.model.restarts, 0),
    evenness: {
      byReplicaCv: sampleStats(present(groups.map((g) => g.workers.byReplica?.cv))),
      byProcessCv: sampleStats(present(groups.map((g) => g.workers.byProcess?.cv))),
      byProcessMaxMin: sampleStats(present(groups.map((g) => g.workers.byProcess?.maxMinRatio))),
      byProcessMaxMean: sampleStats(present(groups.map((g) => g.workers.byProcess?.maxMeanRatio))),
      byReplicaMaxMean: sampleStats(present(groups.map((g) => g.workers.byReplica?.maxMeanRatio))),
    },
    spread: repeatSpreads(okCells, groupName),
    memory: rowMemory(okCells),
    events: rowEvents(okCells, groupName),
    relativeRate: null,
    limit: null,
    prediction: null,
    noisy: false,
    notes: [...baseNotes(cells, okCells, groups), ...flagNotes(okCells, groupName)],
  };
  return { ...row, ...referenceFigures(row, template, probes, balance) };
}

/** Rows in the scenario's own order: workload, group, model, topology. */
export function summariseRun(input: RunInput): RunSummary {
  const { scenario } = input;
  const rows: RowSummary[] = [];
  for (const w of scenario.workloads) {
    for (const g of w.groups) {
      for (const m of scenario.models) {
        for (const t of scenario.topologies) {
          const cells = input.cells.filter((c) => c.model === m && c.topology.id === t.id && c.workload === w.name);
          // A group no cell could size (its probe failed) has no row; the failed cells say why.
          if (cells.some((c) => c.groups.some((x) => x.group === g.name))) {
            rows.push(summariseRow(cells, g.name, input.probes ?? [], scenario.front.balance));
          }
        }
      }
    }
  }
  const summary: RunSummary = {
    runId: input.runId,
    scenario: scenario.name,
    ...(scenario.description !== undefined ? { description: scenario.description } : {}),
    seed: input.seed,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    environment: input.environment,
    cells: [...input.cells]
      .sort((a, b) => a.order - b.order)
      .map((c) => ({
        id: c.id,
        key: c.key,
        order: c.order,
        status: c.status,
        ...(c.error !== undefined ? { error: c.error } : {}),
        machineBusy: c.machineBusy,
        elsewhereCores: c.host?.elsewhereCores ?? null,
        ...(c.placements ? { placements: c.placements } : {}),
      })),
    rows,
    probes: [...(input.probes ?? [])],
    timelines: orderedTimelines(rows, input.cells),
    problems: { clientBound: [], machineBusy: [] },
    notes: [...(input.notes ?? [])],
  };
  summary.problems = runProblems(summary);
  return summary;
}

/** Timelines in the order of the rows (the scenario's), each cell key once. */
function orderedTimelines(rows: readonly RowSummary[], cells: readonly CellSummary[]): Timeline[] {
  const all = timelines(cells);
  const order = [...new Set(rows.map((r) => r.cellKey))];
  return all.sort((a, b) => order.indexOf(a.cellKey) - order.indexOf(b.cellKey));
}

/** What `lab run --strict` refuses: rows whose figures measure the client, cells that shared the machine. */
export interface RunProblems {
  /** One line per row that was client-bound in any repeat. */
  clientBound: string[];
  /** One line per cell whose window saw the machine busy elsewhere. */
  machineBusy: string[];
}

export function runProblems(summary: Pick<RunSummary, "rows" | "cells">): RunProblems {
  return {
    clientBound: summary.rows
      .filter((r) => r.clientBoundRepeats > 0)
      .map((r) => `${r.key}: client-bound in ${r.clientBoundRepeats} of ${r.repeats} repeats (these figures measure the client)`),
    machineBusy: summary.cells
      .filter((c) => c.machineBusy)
      .map((c) => `${c.id}: machine busy, ${fixed(c.elsewhereCores ?? 0)} cores used outside the run (over ${MACHINE_BUSY_CORES})`),
  };
}
