import { z } from "zod";

/**
 * The host's CPU over a cell's measurement window, beside what the cell's own containers used:
 * whatever else ran on the machine (another lab run, a build) shares the cores the figures
 * depend on, and a report must say so rather than hide it.
 */
export const HostUsageSchema = z.object({
  /** The window the host's counters cover, ms. */
  windowMs: z.number().nonnegative(),
  /** Online cores. */
  cores: z.number().int().positive(),
  /** Busy cores on average over the window (all CPU time but idle and iowait, /proc/stat). */
  busyCores: z.number().nonnegative(),
  /** Cores used by the cell's own containers (model, front, clients) over the same window. */
  cellCores: z.number().nonnegative(),
  /** Cores used by the orchestrator process itself (sampling, progress). */
  orchestratorCores: z.number().nonnegative(),
  /**
   * Cores used by the Docker engine's processes (dockerd, containerd, shims). Up to
   * ENGINE_OWN_MAX_CORES of it is the run's own (its stats requests, its containers' plumbing) and
   * not counted as elsewhere; beyond that it is someone else's (a build runs inside dockerd).
   */
  engineCores: z.number().nonnegative().default(0),
  /** busy - cell - orchestrator - engine, floored at 0: CPU spent elsewhere on the machine. */
  elsewhereCores: z.number().nonnegative(),
});
export type HostUsage = z.infer<typeof HostUsageSchema>;

/** /proc/stat's aggregate "cpu" line: total and idle jiffies (idle + iowait). */
export interface CpuTimes {
  total: number;
  idle: number;
}

export function parseProcStat(text: string): CpuTimes {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("no aggregate cpu line in /proc/stat");
  // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { total, idle: (f[3] ?? 0) + (f[4] ?? 0) };
}

/** Busy share of the whole machine between two readings, in cores. */
export function busyCoresBetween(a: CpuTimes, b: CpuTimes, cores: number): number {
  const total = b.total - a.total;
  if (total <= 0) return 0;
  return ((total - (b.idle - a.idle)) / total) * cores;
}

/** What the run itself costs the engine at most (measured on an idle machine: 0.04–0.06 cores). */
export const ENGINE_OWN_MAX_CORES = 0.1;

export function hostUsage(input: {
  windowMs: number;
  cores: number;
  busyCores: number;
  cellCpuSeconds: number;
  orchestratorCpuSeconds: number;
  engineCpuSeconds?: number;
}): HostUsage {
  const secs = input.windowMs / 1000;
  const cellCores = secs > 0 ? input.cellCpuSeconds / secs : 0;
  const orchestratorCores = secs > 0 ? input.orchestratorCpuSeconds / secs : 0;
  const engineCores = secs > 0 ? (input.engineCpuSeconds ?? 0) / secs : 0;
  return {
    windowMs: input.windowMs,
    cores: input.cores,
    busyCores: input.busyCores,
    cellCores,
    orchestratorCores,
    engineCores,
    elsewhereCores: Math.max(0, input.busyCores - cellCores - orchestratorCores - Math.min(engineCores, ENGINE_OWN_MAX_CORES)),
  };
}
