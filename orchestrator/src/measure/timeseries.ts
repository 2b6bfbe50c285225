import { z } from "zod";
import type { ClientResult } from "../../../loadtests/contract/result.js";
import { LoadModelSchema } from "../scenario/schema.js";
import type { ContainerRole } from "./container-stats.js";
import { encode, merge } from "./histogram.js";

/**
 * A cell's per-second time series over its measurement window (second 0 = measure start):
 * per group, what the clients counted second by second (their `intervals`, merged across the
 * group's clients: counts added, histograms added bucket by bucket, percentiles read from the
 * sum); per role, what the container sampler saw. Pure: the sampler's raw series come in, columns
 * of numbers go out (archived in the cell summary), plus each second's merged histogram per group
 * (archived beside it, for re-analysis and the recovery baseline).
 */

/** One sample of one container, as the sampler took it (docker/sampler.ts). */
export interface ContainerSample {
  /** The engine's timestamp of the sample, epoch ms (the sampler's clock when the container was not running). */
  t: number;
  running: boolean;
  /** Since this container's previous sample, ms (0 for a first sample with nothing to compare). */
  dtMs: number;
  /** CPU seconds used since the previous sample. */
  cpuSeconds: number;
  /** CFS periods and throttled periods since the previous sample. */
  periods: number;
  throttledPeriods: number;
  memoryBytes: number;
  /** pids_stats.current: processes and threads in the container; null when the engine did not say. */
  pids: number | null;
  /** The container's restart count as last inspected (cumulative since it was created); null when not yet inspected. */
  restarts: number | null;
}

export interface ContainerSeries {
  id: string;
  name: string;
  role: ContainerRole;
  group?: string;
  clientIndex?: number;
  samples: ContainerSample[];
}

/** At each sampler tick, the cell's model containers: running, and healthy by their healthcheck. */
export interface ReplicaTick {
  /** The sampler's clock, epoch ms. */
  t: number;
  running: number;
  healthy: number;
}

const Column = z.array(z.number());
const NullableColumn = z.array(z.number().nullable());

export const GroupSeriesSchema = z.object({
  group: z.string(),
  loadModel: LoadModelSchema,
  /** Requests started in each second that got the correct reply (= ok/s). */
  ok: Column,
  /** Requests started in each second that failed, all kinds. */
  errors: Column,
  errorsByKind: z.record(z.string(), Column),
  /** Percentiles of each second's merged histogram, ms; null for a second without an ok reply. */
  p50: NullableColumn,
  p99: NullableColumn,
  /** Distinct X-Worker values that answered in each second, where the clients report them per second. */
  workers: NullableColumn.optional(),
  /** Clients of the group that reported per-second intervals, of those that reported at all. */
  clientsWithIntervals: z.number().int().nonnegative(),
  clients: z.number().int().nonnegative(),
});
export type GroupSeries = z.infer<typeof GroupSeriesSchema>;

export const RoleSeriesSchema = z.object({
  /** Cores used in each second, summed over the role's containers; null where none was sampled. */
  cores: NullableColumn,
  /** Share of CFS periods in which a container was throttled, pooled over the role's containers. */
  throttledShare: NullableColumn,
  /** Memory in use, summed over the role's containers. */
  memoryBytes: NullableColumn,
  /** Processes and threads (pids_stats.current), summed: for the model, a proxy for live workers. */
  pids: NullableColumn,
  /** Restarts first seen in each second (from the restart counts, and CPU counters that fell back to zero). */
  restarts: Column,
  /** Containers of the role that were running in each second (the most seen by any tick in it). */
  running: NullableColumn,
});
export type RoleSeries = z.infer<typeof RoleSeriesSchema>;

export const TimeSeriesSchema = z.object({
  /** Epoch ms of second 0: the measurement start (the earliest client window start). */
  startedAt: z.number(),
  seconds: z.number().int().nonnegative(),
  groups: z.array(GroupSeriesSchema),
  model: RoleSeriesSchema,
  front: RoleSeriesSchema,
  /** Model containers healthy by their healthcheck in each second (the fewest seen by any tick in it). */
  healthyReplicas: NullableColumn,
  notes: z.array(z.string()),
});
export type TimeSeries = z.infer<typeof TimeSeriesSchema>;

export interface GroupInput {
  group: string;
  loadModel: "open" | "closed";
  results: readonly ClientResult[];
}

export interface TimeSeriesInput {
  /** Epoch ms of second 0. */
  startedAt: number;
  durationMs: number;
  groups: readonly GroupInput[];
  containers?: readonly ContainerSeries[];
  replicas?: readonly ReplicaTick[];
}

export interface BuiltTimeSeries {
  series: TimeSeries;
  /** Per group, each second's merged histogram (µs, compressed base64). */
  histograms: Record<string, string[]>;
}

/** Which second of the window an instant falls in; null outside it. */
function secondOf(t: number, startedAt: number, n: number): number | null {
  const i = Math.floor((t - startedAt) / 1000);
  return i >= 0 && i < n ? i : null;
}

/**
 * A client's interval `t` is the start of its second. The TCP and autocannon clients count from
 * the measure start; k6 from whole epoch seconds, up to a second away: each interval goes to the
 * window second it overlaps most, and the partial seconds at either edge into the first or last.
 */
function alignedIndex(t: number, startedAt: number, n: number): number {
  return Math.min(n - 1, Math.max(0, Math.round((t - startedAt) / 1000)));
}

const zeros = (n: number) => Array.from({ length: n }, () => 0);
const US_PER_MS = 1000;

function groupSeries(g: GroupInput, startedAt: number, n: number, notes: string[]): { series: GroupSeries; histograms: string[] } {
  const ok = zeros(n);
  const errorsByKind: Record<string, number[]> = {};
  const parts: string[][] = Array.from({ length: n }, () => []);
  const workers: (Set<string> | null)[] = Array.from({ length: n }, () => null);
  const withIntervals = g.results.filter((r) => r.intervals !== undefined);
  for (const r of withIntervals) {
    for (const iv of r.intervals ?? []) {
      const i = alignedIndex(iv.t, startedAt, n);
      ok[i] = (ok[i] ?? 0) + iv.ok;
      for (const [kind, count] of Object.entries(iv.errors)) {
        const col = (errorsByKind[kind] ??= zeros(n));
        col[i] = (col[i] ?? 0) + count;
      }
      if (iv.histogram.length > 0) parts[i]?.push(iv.histogram);
      if (iv.workers) {
        const set = (workers[i] ??= new Set());
        for (const [w, c] of Object.entries(iv.workers)) if (c > 0) set.add(w);
      }
    }
  }
  if (withIntervals.length < g.results.length) {
    notes.push(
      `${g.group}: ${g.results.length - withIntervals.length} of ${g.results.length} clients gave no per-second figures; its seconds count only the others`,
    );
  }
  const okTotal = g.results.filter((r) => r.intervals !== undefined).reduce((a, r) => a + r.requests.ok, 0);
  const okSeconds = ok.reduce((a, b) => a + b, 0);
  if (okSeconds !== okTotal) notes.push(`${g.group}: the seconds hold ${okSeconds} ok replies, the clients' totals ${okTotal}`);
  const p50: (number | null)[] = [];
  const p99: (number | null)[] = [];
  const histograms: string[] = [];
  for (const encoded of parts) {
    const h = merge(encoded);
    p50.push(h.totalCount > 0 ? h.getValueAtPercentile(50) / US_PER_MS : null);
    p99.push(h.totalCount > 0 ? h.getValueAtPercentile(99) / US_PER_MS : null);
    histograms.push(encode(h));
  }
  const errors = zeros(n).map((_, i) => Object.values(errorsByKind).reduce((a, col) => a + (col[i] ?? 0), 0));
  const anyWorkers = workers.some((w) => w !== null);
  return {
    series: {
      group: g.group,
      loadModel: g.loadModel,
      ok,
      errors,
      errorsByKind,
      p50,
      p99,
      ...(anyWorkers ? { workers: workers.map((w) => (w ? w.size : withIntervals.length > 0 ? 0 : null)) } : {}),
      clientsWithIntervals: withIntervals.length,
      clients: g.results.length,
    },
    histograms,
  };
}

interface RoleAccumulator {
  cpu: number[];
  dt: number[];
  periods: number[];
  throttled: number[];
  memory: (number | null)[];
  pids: (number | null)[];
  restarts: number[];
  running: (number | null)[];
}

function accumulator(n: number): RoleAccumulator {
  const nulls = () => Array.from({ length: n }, (): number | null => null);
  return {
    cpu: zeros(n),
    dt: zeros(n),
    periods: zeros(n),
    throttled: zeros(n),
    memory: nulls(),
    pids: nulls(),
    restarts: zeros(n),
    running: nulls(),
  };
}

const addAt = (col: (number | null)[], i: number, v: number) => (col[i] = (col[i] ?? 0) + v);

/**
 * One container into its role's columns. A sample covers (t - dtMs, t]: it goes to the second its
 * middle falls in. A container's CPU rate in a second is its CPU over the time its samples there
 * covered; the role's is the sum of its containers' rates. Memory and pids: each container's last
 * sample in the second, summed. Restarts: each rise of the restart count, in the second it was seen.
 */
function addContainer(acc: RoleAccumulator, c: ContainerSeries, startedAt: number, n: number): void {
  const cpu = zeros(n);
  const dt = zeros(n);
  const memory = new Map<number, number>();
  const pids = new Map<number, number>();
  const running = new Set<number>();
  let restarts: number | null = null;
  for (const s of c.samples) {
    const i = secondOf(s.t - s.dtMs / 2, startedAt, n) ?? secondOf(s.t, startedAt, n);
    if (s.restarts !== null) {
      if (restarts !== null && s.restarts > restarts && i !== null) addAt(acc.restarts, i, s.restarts - restarts);
      restarts = Math.max(restarts ?? 0, s.restarts);
    }
    if (i === null || !s.running) continue;
    running.add(i);
    if (s.dtMs > 0) {
      cpu[i] = (cpu[i] ?? 0) + s.cpuSeconds;
      dt[i] = (dt[i] ?? 0) + s.dtMs / 1000;
      addAt(acc.periods, i, s.periods);
      addAt(acc.throttled, i, s.throttledPeriods);
    }
    memory.set(i, s.memoryBytes);
    if (s.pids !== null) pids.set(i, s.pids);
  }
  for (let i = 0; i < n; i++) {
    if ((dt[i] ?? 0) > 0) {
      addAt(acc.cpu, i, (cpu[i] ?? 0) / (dt[i] ?? 1));
      addAt(acc.dt, i, 1);
    }
    const m = memory.get(i);
    if (m !== undefined) acc.memory[i] = (acc.memory[i] ?? 0) + m;
    const p = pids.get(i);
    if (p !== undefined) acc.pids[i] = (acc.pids[i] ?? 0) + p;
    if (running.has(i)) acc.running[i] = (acc.running[i] ?? 0) + 1;
  }
}

function roleSeries(containers: readonly ContainerSeries[], role: ContainerRole, startedAt: number, n: number): RoleSeries {
  const acc = accumulator(n);
  for (const c of containers.filter((x) => x.role === role)) addContainer(acc, c, startedAt, n);
  const sampled = containers.some((c) => c.role === role);
  return {
    cores: acc.cpu.map((v, i) => ((acc.dt[i] ?? 0) > 0 ? v : null)),
    throttledShare: acc.periods.map((p, i) => (p > 0 ? (acc.throttled[i] ?? 0) / p : null)),
    memoryBytes: acc.memory,
    pids: acc.pids,
    restarts: acc.restarts,
    running: acc.running.map((r) => (r === null && sampled ? 0 : r)),
  };
}

/** Per second, a reduction of the ticks that fell in it (null where none did). */
function tickColumn(
  ticks: readonly ReplicaTick[],
  startedAt: number,
  n: number,
  pick: (t: ReplicaTick) => number,
  reduce: (a: number, b: number) => number,
) {
  const out: (number | null)[] = Array.from({ length: n }, () => null);
  for (const t of ticks) {
    const i = secondOf(t.t, startedAt, n);
    if (i !== null) out[i] = out[i] === null ? pick(t) : reduce(out[i] ?? 0, pick(t));
  }
  return out;
}

export function windowSeconds(durationMs: number): number {
  return Math.max(0, Math.ceil(durationMs / 1000 - 1e-9));
}

export function buildTimeSeries(input: TimeSeriesInput): BuiltTimeSeries {
  const n = windowSeconds(input.durationMs);
  const notes: string[] = [];
  const built = input.groups.map((g) => groupSeries(g, input.startedAt, n, notes));
  const containers = input.containers ?? [];
  const model = roleSeries(containers, "model", input.startedAt, n);
  const ticks = input.replicas ?? [];
  if (ticks.length > 0) {
    // The ticks list every model container, whether or not its stats answered.
    const fromTicks = tickColumn(ticks, input.startedAt, n, (t) => t.running, Math.max);
    model.running = model.running.map((r, i) => fromTicks[i] ?? r);
  }
  return {
    series: {
      startedAt: input.startedAt,
      seconds: n,
      groups: built.map((b) => b.series),
      model,
      front: roleSeries(containers, "front", input.startedAt, n),
      healthyReplicas: tickColumn(ticks, input.startedAt, n, (t) => t.healthy, Math.min),
      notes,
    },
    histograms: Object.fromEntries(built.map((b) => [b.series.group, b.histograms])),
  };
}
