import { z } from "zod";
import {
  LoadModelSchema,
  LoadSchema,
  ProtocolSchema,
  RequestMixSchema,
  ToolSchema,
  TopologyRecordSchema,
  type Scenario,
} from "../scenario/schema.js";
import { CellStatusSchema, type CellSummary, type GroupSummary } from "./cell-summary.js";
import { LatencySummarySchema, merge, summarise } from "./histogram.js";
import { sampleStats, SampleStatsSchema } from "./stats.js";

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
    nodeVersion: z.string().optional(),
    gitCommit: z.string().optional(),
    gitDirty: z.boolean().optional(),
    images: z.record(z.string(), z.string()).optional(),
  })
  .passthrough();
export type Environment = z.infer<typeof EnvironmentSchema>;

export const RowSummarySchema = z.object({
  /** "<model>.<topology>.<workload>.<group>": the key reports and comparisons join on. */
  key: z.string(),
  cellKey: z.string(),
  model: z.string(),
  topology: TopologyRecordSchema,
  workload: z.string(),
  group: z.string(),
  protocol: ProtocolSchema,
  tool: ToolSchema,
  loadModel: LoadModelSchema,
  load: LoadSchema,
  request: RequestMixSchema,
  clients: z.object({ count: z.number().int(), cpus: z.number() }),
  cpuBudget: z.number(),
  durationMs: z.number(),
  warmupMs: z.number(),
  /** Repeats that ran (status ok) and repeats that failed. */
  repeats: z.number().int().nonnegative(),
  failedRepeats: z.number().int().nonnegative(),
  /** ok replies per second, across repeats. */
  throughput: SampleStatsSchema,
  /** Each percentile of each repeat's merged histogram, described across repeats (ms). */
  latency: z.object({
    mean: SampleStatsSchema,
    p50: SampleStatsSchema,
    p90: SampleStatsSchema,
    p99: SampleStatsSchema,
    p999: SampleStatsSchema,
    max: SampleStatsSchema,
  }),
  /** Every repeat's histograms merged: the latency distribution of all the run's requests. */
  latencyAllRepeats: LatencySummarySchema.nullable(),
  sent: z.number().int().nonnegative(),
  ok: z.number().int().nonnegative(),
  errors: z.record(z.string(), z.number().int().nonnegative()),
  errorsTotal: z.number().int().nonnegative(),
  dropped: z.number().int().nonnegative(),
  /** Repeats in which an open model did not deliver its planned load. */
  loadNotDeliveredRepeats: z.number().int().nonnegative(),
  /** Cores the model's containers used (cpu seconds / window), across repeats. */
  modelCores: SampleStatsSchema,
  modelThrottledPct: SampleStatsSchema,
  modelMemoryPeakBytes: z.number().nullable(),
  modelRestarts: z.number().int().nonnegative(),
  /** CV of reply counts over replicas and over processes, across repeats (0 = even). */
  evenness: z.object({ byReplicaCv: SampleStatsSchema, byProcessCv: SampleStatsSchema, byProcessMaxMin: SampleStatsSchema }),
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
  cells: z.array(z.object({ id: z.string(), key: z.string(), order: z.number().int(), status: CellStatusSchema, error: z.string().optional() })),
  rows: z.array(RowSummarySchema),
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
}

export function rowKey(cellKey: string, group: string): string {
  return `${cellKey}.${group}`;
}

const present = (xs: readonly (number | null | undefined)[]): number[] => xs.filter((x): x is number => typeof x === "number");

function summariseRow(cells: readonly CellSummary[], groupName: string): RowSummary {
  const first = cells[0];
  if (!first) throw new Error("a row needs at least one cell");
  const okCells = cells.filter((c) => c.status === "ok");
  const groups = okCells.flatMap((c) => c.groups.filter((g) => g.group === groupName));
  const template: GroupSummary | undefined = cells.flatMap((c) => c.groups).find((g) => g.group === groupName);
  if (!template) throw new Error(`no cell of ${first.key} has group ${groupName}`);
  const errors: Record<string, number> = {};
  for (const g of groups) for (const [k, v] of Object.entries(g.errors)) errors[k] = (errors[k] ?? 0) + v;
  const lat = (f: (l: NonNullable<GroupSummary["latency"]>) => number) => sampleStats(present(groups.map((g) => (g.latency ? f(g.latency) : null))));
  const notes = [...new Set(groups.flatMap((g) => g.notes).concat(okCells.flatMap((c) => c.notes)))];
  const failed = cells.length - okCells.length;
  if (failed > 0) notes.push(`${failed} repeat(s) failed: ${cells.filter((c) => c.status !== "ok").map((c) => c.error ?? c.id).join("; ")}`);
  const memory = present(okCells.map((c) => (c.usage.model.containers > 0 ? c.usage.model.memoryPeakBytes : null)));
  return {
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
    clients: { count: template.clients.expected, cpus: template.clients.cpus },
    cpuBudget: first.cpuBudget,
    durationMs: first.durationMs,
    warmupMs: first.warmupMs,
    repeats: okCells.length,
    failedRepeats: failed,
    throughput: sampleStats(present(groups.map((g) => g.throughput))),
    latency: {
      mean: lat((l) => l.mean),
      p50: lat((l) => l.p50),
      p90: lat((l) => l.p90),
      p99: lat((l) => l.p99),
      p999: lat((l) => l.p999),
      max: lat((l) => l.max),
    },
    latencyAllRepeats: summarise(merge(groups.map((g) => g.histogram))),
    sent: groups.reduce((a, g) => a + g.requests.sent, 0),
    ok: groups.reduce((a, g) => a + g.requests.ok, 0),
    errors,
    errorsTotal: groups.reduce((a, g) => a + g.errorsTotal, 0),
    dropped: groups.reduce((a, g) => a + g.dropped, 0),
    loadNotDeliveredRepeats: groups.filter((g) => g.loadNotDelivered).length,
    modelCores: sampleStats(present(okCells.map((c) => c.usage.model.cores))),
    modelThrottledPct: sampleStats(present(okCells.map((c) => c.usage.model.throttledPct))),
    modelMemoryPeakBytes: memory.length > 0 ? Math.max(...memory) : null,
    modelRestarts: okCells.reduce((a, c) => a + c.usage.model.restarts, 0),
    evenness: {
      byReplicaCv: sampleStats(present(groups.map((g) => g.workers.byReplica?.cv))),
      byProcessCv: sampleStats(present(groups.map((g) => g.workers.byProcess?.cv))),
      byProcessMaxMin: sampleStats(present(groups.map((g) => g.workers.byProcess?.maxMinRatio))),
    },
    notes,
  };
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
          if (cells.length > 0) rows.push(summariseRow(cells, g.name));
        }
      }
    }
  }
  return {
    runId: input.runId,
    scenario: scenario.name,
    ...(scenario.description !== undefined ? { description: scenario.description } : {}),
    seed: input.seed,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    environment: input.environment,
    cells: [...input.cells]
      .sort((a, b) => a.order - b.order)
      .map((c) => ({ id: c.id, key: c.key, order: c.order, status: c.status, ...(c.error !== undefined ? { error: c.error } : {}) })),
    rows,
    notes: [...(input.notes ?? [])],
  };
}
