import { z } from "zod";
import type { Load, RequestMix } from "../scenario/schema.js";
import type { LatencySummary } from "./histogram.js";
import { compareToModel, predict, type Discipline, type ServiceTime as QueueService } from "./queueing.js";
import type { ProbeRecord, ServiceTime } from "./limits.js";

/**
 * Queueing theory beside a row's measurement. The servers are the processes that serve in
 * parallel: one replica's workers behind its master's one accept queue ("shared", M/D/c), or
 * one-process replicas each with its own queue, fed by the front ("round-robin" or
 * "least-conn"). The service time per server is the one that makes c servers saturate at the
 * throughput the probe measured for this very shape (c ÷ capacity), so it carries every
 * per-request overhead of the shape, the front's included; a mix keeps the ratios of its
 * measured fib CPU times. Replicas with several workers each fit neither layout and get none.
 */

export const PredictionSchema = z.object({
  /** Kendall's notation and layout: "D/D/2", "2×D/D/1 round-robin". */
  model: z.string(),
  method: z.enum(["analytic", "simulation"]).nullable(),
  discipline: z.enum(["shared", "round-robin", "least-conn"]),
  servers: z.number().int().positive(),
  /** Mean service time per server (ms) = servers ÷ probed capacity. */
  serviceMs: z.number().positive(),
  /** Offered rate ÷ capacity. */
  offeredLoad: z.number(),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  /** Measured (merged over repeats) ÷ predicted; null without a steady state. */
  p50Ratio: z.number().nullable(),
  p99Ratio: z.number().nullable(),
  text: z.string(),
});
export type Prediction = z.infer<typeof PredictionSchema>;

export interface PredictionInput {
  load: Load;
  request: RequestMix;
  latency: LatencySummary | null;
  /** The probed saturation throughput of this group on this shape (req/s). */
  capacity: number | null;
  probe: Pick<ProbeRecord, "replicas" | "processesPerReplica" | "serviceTimes">;
  balance: "round_robin" | "least_conn";
  seed?: number;
}

export function layout(probe: Pick<ProbeRecord, "replicas" | "processesPerReplica">, balance: PredictionInput["balance"]) {
  if (probe.replicas === 1) return { servers: probe.processesPerReplica, discipline: "shared" as Discipline };
  if (probe.processesPerReplica === 1) {
    return { servers: probe.replicas, discipline: (balance === "least_conn" ? "least-conn" : "round-robin") as Discipline };
  }
  return null;
}

/** Service times in the proportions of the mix's measured CPU, scaled to mean `meanMs`; null for sleep or unmeasured n. */
export function serviceFor(request: RequestMix, times: readonly ServiceTime[], meanMs: number): QueueService | null {
  if (request.some((e) => e.kind !== "fib")) return null;
  if (request.length === 1) return meanMs;
  const cpu = request.map((e) => times.find((t) => t.n === e.arg)?.cpuMs);
  if (cpu.some((c) => c === undefined)) return null;
  const total = request.reduce((a, e) => a + e.weight, 0);
  const samples: number[] = [];
  // 1000 draws in the mix's proportions: the simulator samples uniformly from the list.
  request.forEach((e, i) => {
    for (let k = 0; k < Math.round((1000 * e.weight) / total); k++) samples.push(cpu[i] as number);
  });
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { samplesMs: samples.map((s) => (s * meanMs) / mean) };
}

export function rowPrediction(o: PredictionInput): Prediction | null {
  if (o.load.model !== "open" || !o.latency || o.capacity === null || !(o.capacity > 0)) return null;
  const shape = layout(o.probe, o.balance);
  if (!shape) return null;
  const serviceMs = (shape.servers * 1000) / o.capacity;
  const service = serviceFor(o.request, o.probe.serviceTimes, serviceMs);
  if (service === null) return null;
  const p = predict({
    rate: o.load.rate,
    serviceMs: service,
    servers: shape.servers,
    discipline: shape.discipline,
    arrivals: o.load.arrivals ?? "uniform",
    seed: o.seed ?? 1,
    requests: 100_000,
  });
  const cmp = compareToModel({ p50: o.latency.p50, p99: o.latency.p99 }, p);
  return {
    model: p.model,
    method: p.stable ? p.method : null,
    ...shape,
    serviceMs,
    offeredLoad: p.offeredLoad,
    p50Ms: p.stable ? p.response.p50 : null,
    p99Ms: p.stable ? p.response.p99 : null,
    p50Ratio: cmp.p50Ratio,
    p99Ratio: cmp.p99Ratio,
    text: cmp.text,
  };
}
