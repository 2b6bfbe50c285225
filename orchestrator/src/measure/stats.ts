import { z } from "zod";

/**
 * Statistics across the repeats of a cell. Repeats are few (often 3 to 5), so the confidence
 * interval uses Student's t rather than the normal approximation, which would be far too narrow.
 */

/** Two-sided 95% critical values of Student's t, by degrees of freedom. */
const T95: Readonly<Record<number, number>> = {
  1: 12.706,
  2: 4.303,
  3: 3.182,
  4: 2.776,
  5: 2.571,
  6: 2.447,
  7: 2.365,
  8: 2.306,
  9: 2.262,
  10: 2.228,
  11: 2.201,
  12: 2.179,
  13: 2.16,
  14: 2.145,
  15: 2.131,
  16: 2.12,
  17: 2.11,
  18: 2.101,
  19: 2.093,
  20: 2.086,
  21: 2.08,
  22: 2.074,
  23: 2.069,
  24: 2.064,
  25: 2.06,
  26: 2.056,
  27: 2.052,
  28: 2.048,
  29: 2.045,
  30: 2.042,
  40: 2.021,
  60: 2.0,
  120: 1.98,
};

/** t for a 95% two-sided interval; between table rows the lower df is used, which is conservative (wider). */
export function tCritical95(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new Error(`degrees of freedom must be a positive integer, got ${df}`);
  if (df > 120) return 1.96;
  let best = 1;
  for (const k of Object.keys(T95).map(Number)) if (k <= df && k > best) best = k;
  return T95[best] as number;
}

export const SampleStatsSchema = z.object({
  n: z.number().int().nonnegative(),
  mean: z.number().nullable(),
  /** Sample standard deviation (n - 1); null below 2 values. */
  stdev: z.number().nullable(),
  /** stdev / mean; null below 2 values or for a mean of 0. */
  cv: z.number().nullable(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  /** 95% confidence interval of the mean; null below 2 values. */
  ci95: z.object({ low: z.number(), high: z.number(), halfWidth: z.number() }).nullable(),
});
export type SampleStats = z.infer<typeof SampleStatsSchema>;

export function mean(values: readonly number[]): number {
  if (values.length === 0) throw new Error("mean of no values");
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (Bessel's correction). */
export function sampleStdev(values: readonly number[]): number {
  if (values.length < 2) throw new Error("sample stdev needs at least 2 values");
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

export function sampleStats(values: readonly number[]): SampleStats {
  const n = values.length;
  if (n === 0) return { n, mean: null, stdev: null, cv: null, min: null, max: null, ci95: null };
  const m = mean(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (n < 2) return { n, mean: m, stdev: null, cv: null, min, max, ci95: null };
  const sd = sampleStdev(values);
  const halfWidth = (tCritical95(n - 1) * sd) / Math.sqrt(n);
  return {
    n,
    mean: m,
    stdev: sd,
    cv: m !== 0 ? sd / Math.abs(m) : null,
    min,
    max,
    ci95: { low: m - halfWidth, high: m + halfWidth, halfWidth },
  };
}

/**
 * The per-repeat values of a figure that must not be averaged (a latency percentile): only how far
 * they spread, as the lowest and highest repeat and a 95% interval of the per-repeat values. The
 * headline figure comes from elsewhere (the histogram merged over all repeats); there is
 * deliberately no mean here to mistake for it.
 */
export const SpreadSchema = z.object({
  n: z.number().int().nonnegative(),
  min: z.number().nullable(),
  max: z.number().nullable(),
  /** Student's t interval of the per-repeat values; null below 2 values. */
  ci95: z.object({ low: z.number(), high: z.number(), halfWidth: z.number() }).nullable(),
});
export type Spread = z.infer<typeof SpreadSchema>;

export function spreadOf(values: readonly number[]): Spread {
  const s = sampleStats(values);
  return { n: s.n, min: s.min, max: s.max, ci95: s.ci95 };
}

/** Coefficient of variation of a population (not a sample): for shares of work over workers. */
export function populationCv(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const m = mean(values);
  if (m === 0) return null;
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / values.length) / m;
}
