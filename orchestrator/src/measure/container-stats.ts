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

/** Sum the containers of one role; windowMs is the sampling window, needed for cores. */
export function roleUsage(stats: readonly ContainerStats[], role: ContainerRole, windowMs: number | undefined): RoleUsage {
  const mine = stats.filter((s) => s.role === role);
  const sum = (f: (s: ContainerStats) => number) => mine.reduce((a, s) => a + f(s), 0);
  const cpuSeconds = sum((s) => s.cpuSeconds);
  const periods = sum((s) => s.totalPeriods);
  return {
    role,
    containers: mine.length,
    cpuSeconds,
    cores: windowMs && windowMs > 0 ? cpuSeconds / (windowMs / 1000) : null,
    // Pooled over periods rather than averaged per container, so a replica that ran longer weighs more.
    throttledPct: periods > 0 ? (100 * sum((s) => s.throttledPeriods)) / periods : null,
    throttledSeconds: sum((s) => s.throttledSeconds),
    memoryPeakBytes: mine.reduce((a, s) => Math.max(a, s.memoryPeakBytes), 0),
    restarts: sum((s) => s.restarts),
  };
}
