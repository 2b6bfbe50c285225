import { z } from "zod";

/**
 * What the lead's sampler records per container over a cell's load window (counters are the
 * difference between the window's first and last sample).
 */
export const ContainerRoleSchema = z.enum(["model", "front", "client"]);
export type ContainerRole = z.infer<typeof ContainerRoleSchema>;

export const ContainerStatsSchema = z.object({
  name: z.string(),
  role: ContainerRoleSchema,
  /** Clients: the scenario group and index the container ran. */
  group: z.string().optional(),
  clientIndex: z.number().int().nonnegative().optional(),
  /** The container's CPU limit in cores (NanoCpus / 1e9); null when unlimited. */
  cpuLimit: z.number().positive().nullable().optional(),
  /** Seconds between the engine's first and last sample of this container (its own clock). */
  sampledSeconds: z.number().nonnegative().optional(),
  cpuSeconds: z.number().nonnegative(),
  throttledPeriods: z.number().int().nonnegative(),
  totalPeriods: z.number().int().nonnegative(),
  throttledSeconds: z.number().nonnegative(),
  memoryPeakBytes: z.number().nonnegative(),
  restarts: z.number().int().nonnegative(),
});
export type ContainerStats = z.infer<typeof ContainerStatsSchema>;

/** The containers of one role taken together (e.g. every replica of the model). */
export const RoleUsageSchema = z.object({
  role: ContainerRoleSchema,
  containers: z.number().int().nonnegative(),
  cpuSeconds: z.number().nonnegative(),
  /** cpuSeconds over the sampled window: how many cores the role kept busy on average. */
  cores: z.number().nonnegative().nullable(),
  /** Share of CFS periods in which a container was throttled, over all of the role's containers. Null without CFS data. */
  throttledPct: z.number().nonnegative().nullable(),
  throttledSeconds: z.number().nonnegative(),
  /** Highest single container's peak. */
  memoryPeakBytes: z.number().nonnegative(),
  restarts: z.number().int().nonnegative(),
});
export type RoleUsage = z.infer<typeof RoleUsageSchema>;

/**
 * Cores one container kept busy on average: its CPU seconds over the engine's own clock between
 * its first and last sample where known (the sampler's clock would understate it by the time a
 * stats request takes), else over the sampler's window.
 */
export function containerCores(s: ContainerStats, windowMs: number | undefined): number | null {
  if (s.sampledSeconds !== undefined && s.sampledSeconds > 0) return s.cpuSeconds / s.sampledSeconds;
  return windowMs && windowMs > 0 ? s.cpuSeconds / (windowMs / 1000) : null;
}

/** Sum the containers of one role; windowMs is the sampling window, used where a container has no clock of its own. */
export function roleUsage(stats: readonly ContainerStats[], role: ContainerRole, windowMs: number | undefined): RoleUsage {
  const mine = stats.filter((s) => s.role === role);
  const sum = (f: (s: ContainerStats) => number) => mine.reduce((a, s) => a + f(s), 0);
  const cpuSeconds = sum((s) => s.cpuSeconds);
  const periods = sum((s) => s.totalPeriods);
  const perContainer = mine.map((s) => containerCores(s, windowMs));
  let cores: number | null = perContainer.every((c): c is number => c !== null) ? perContainer.reduce((a, c) => a + c, 0) : null;
  if (mine.length === 0) cores = windowMs && windowMs > 0 ? 0 : null;
  return {
    role,
    containers: mine.length,
    cpuSeconds,
    cores,
    // Pooled over periods rather than averaged per container, so a replica that ran longer weighs more.
    throttledPct: periods > 0 ? (100 * sum((s) => s.throttledPeriods)) / periods : null,
    throttledSeconds: sum((s) => s.throttledSeconds),
    memoryPeakBytes: mine.reduce((a, s) => Math.max(a, s.memoryPeakBytes), 0),
    restarts: sum((s) => s.restarts),
  };
}

/** One load client's CPU against its limit: the figures that say whether the client set the pace. */
export const ClientUsageSchema = z.object({
  name: z.string(),
  clientIndex: z.number().int().nonnegative().nullable(),
  /** Cores used on average (cpuSeconds / sampledSeconds). */
  cores: z.number().nonnegative().nullable(),
  /** The client's CPU limit in cores; null when unlimited. */
  cpuLimit: z.number().positive().nullable(),
  /** cores / cpuLimit; null when either is unknown. */
  cpuShare: z.number().nonnegative().nullable(),
  /** Share of CFS periods in which the client was throttled; null without CFS data. */
  throttledShare: z.number().nonnegative().nullable(),
  throttledPeriods: z.number().int().nonnegative(),
  totalPeriods: z.number().int().nonnegative(),
});
export type ClientUsage = z.infer<typeof ClientUsageSchema>;

/**
 * A client container's usage. `scenarioLimit` (the group's clients.cpus) stands in when the
 * sampler did not record the container's own limit.
 */
export function clientUsage(s: ContainerStats, scenarioLimit: number | null, windowMs: number | undefined): ClientUsage {
  const cores = containerCores(s, windowMs);
  const cpuLimit = s.cpuLimit === undefined ? scenarioLimit : s.cpuLimit;
  return {
    name: s.name,
    clientIndex: s.clientIndex ?? null,
    cores,
    cpuLimit,
    cpuShare: cores !== null && cpuLimit !== null ? cores / cpuLimit : null,
    throttledShare: s.totalPeriods > 0 ? s.throttledPeriods / s.totalPeriods : null,
    throttledPeriods: s.throttledPeriods,
    totalPeriods: s.totalPeriods,
  };
}
