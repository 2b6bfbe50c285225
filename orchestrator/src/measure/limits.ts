import { z } from "zod";
import type { Load, RequestMix, ScenarioLoad } from "../scenario/schema.js";
import { isRelativeLoad } from "../scenario/schema.js";

/**
 * The run's own reference points (run/probe.ts measures them, this module only reasons about
 * them): what one request costs in CPU in the model's image, what the topology saturates at,
 * and what a relative rate ("80%") means in requests per second.
 */

/** fib(n) timed inside a model container, under its CPU limit, one call at a time. */
export const ServiceTimeSchema = z.object({
  n: z.number().int().nonnegative(),
  /** CPU time per call (ms): the cost throttling cannot stretch. */
  cpuMs: z.number().positive(),
  /** Wall time per call (ms): stretched by CFS throttling when the limit is under one core. */
  wallMs: z.number().positive(),
  calls: z.number().int().positive(),
});
export type ServiceTime = z.infer<typeof ServiceTimeSchema>;

/** One group's saturation probe: a closed loop at `connections`, through the front, as the group's tool sends. */
export const CapacityProbeSchema = z.object({
  workload: z.string(),
  group: z.string(),
  connections: z.number().int().positive(),
  /** ok replies per second; null when the probe failed. */
  throughput: z.number().nullable(),
  errorsTotal: z.number().int().nonnegative(),
  clientBound: z.boolean(),
  machineBusy: z.boolean(),
  error: z.string().optional(),
});
export type CapacityProbe = z.infer<typeof CapacityProbeSchema>;

export const ProbeRecordSchema = z.object({
  model: z.string(),
  topology: z.string(),
  /** replicas × cpus. */
  cpuBudget: z.number(),
  replicas: z.number().int().positive(),
  /** Processes serving in each replica (workers of a master, else one): the queueing model's servers. */
  processesPerReplica: z.number().int().positive(),
  serviceTimes: z.array(ServiceTimeSchema),
  capacity: z.array(CapacityProbeSchema),
  error: z.string().optional(),
});
export type ProbeRecord = z.infer<typeof ProbeRecordSchema>;

/** What a relative rate was resolved against, kept with every figure measured at it. */
export const RelativeRateRecordSchema = z.object({
  percent: z.number().positive(),
  /** The probe's throughput the percentage is of (ok replies per second). */
  capacity: z.number().positive(),
  /** The rate the clients were given. */
  rate: z.number().positive(),
});
export type RelativeRateRecord = z.infer<typeof RelativeRateRecordSchema>;

/** The physical limit of a row: its CPU budget divided by the CPU one request costs. */
export const LimitSchema = z.object({
  /** CPU per request of the group's mix (weighted mean of the measured fib times; sleep costs none). */
  cpuMsPerRequest: z.number().positive(),
  /** cpuBudget ÷ cpuMsPerRequest: what the budget could serve if nothing but fib ran. */
  limitRps: z.number().positive(),
  /** Mean throughput over repeats ÷ limitRps. */
  fraction: z.number().nullable(),
});
export type Limit = z.infer<typeof LimitSchema>;

export function probeKey(model: string, topologyId: string): string {
  return `${model}.${topologyId}`;
}

/** The saturation throughput probed for a model, topology, workload and group, or null. */
export function capacityFor(
  records: readonly ProbeRecord[],
  model: string,
  topology: string,
  workload: string,
  group: string,
): number | null {
  const r = records.find((p) => p.model === model && p.topology === topology);
  return r?.capacity.find((c) => c.workload === workload && c.group === group)?.throughput ?? null;
}

/** Every fib n a mix asks for. */
export function fibArgs(mix: RequestMix): number[] {
  return mix.filter((e) => e.kind === "fib").map((e) => e.arg);
}

/**
 * The mix's CPU per request, weighting each entry's measured fib time; sleep entries cost no CPU
 * in this account. Null when a fib n was not measured or the mix costs nothing (all sleep).
 */
export function cpuMsPerRequest(mix: RequestMix, times: readonly ServiceTime[]): number | null {
  let weighted = 0;
  let weights = 0;
  for (const e of mix) {
    weights += e.weight;
    if (e.kind === "sleep") continue;
    const t = times.find((x) => x.n === e.arg);
    if (!t) return null;
    weighted += e.weight * t.cpuMs;
  }
  return weighted > 0 && weights > 0 ? weighted / weights : null;
}

export function physicalLimit(cpuBudget: number, cpuMs: number | null, throughputMean: number | null): Limit | null {
  if (cpuMs === null || !(cpuMs > 0) || !(cpuBudget > 0)) return null;
  const limitRps = (cpuBudget * 1000) / cpuMs;
  return { cpuMsPerRequest: cpuMs, limitRps, fraction: throughputMean === null ? null : throughputMean / limitRps };
}

/** The load a client runs: a relative rate becomes requests per second of the probed capacity. */
export function resolveLoad(load: ScenarioLoad, capacity: number | null): { load: Load; relative: RelativeRateRecord | null } {
  if (!isRelativeLoad(load)) return { load: load as Load, relative: null };
  if (capacity === null || !(capacity > 0)) {
    throw new Error(`a rate of ${load.rate.percent}% needs the probed capacity, and the probe measured none`);
  }
  const rate = (capacity * load.rate.percent) / 100;
  return { load: { ...load, rate }, relative: { percent: load.rate.percent, capacity, rate } };
}

/** The load of a group whose rates are all absolute; a relative rate reaching a client is a bug of the caller. */
export function absoluteLoad(load: ScenarioLoad): Load {
  if (isRelativeLoad(load)) {
    throw new Error(`internal: the relative rate ${load.rate.percent}% was never resolved against a probe`);
  }
  return load as Load;
}
