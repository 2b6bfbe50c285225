import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";
import { z } from "zod";
import { HISTOGRAM_SETTINGS } from "../../../loadtests/contract/env.js";

/**
 * Latency histograms: recorded in microseconds by the clients, merged here, reported in
 * milliseconds. Pure JS (no WebAssembly) so it runs the same in every Node and in the client
 * images; 3 significant digits (0.1% relative precision); 32-bit counts, auto-resizing range.
 */
export type { Histogram };

export function newHistogram(): Histogram {
  return build(HISTOGRAM_SETTINGS);
}

export function encode(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decode(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, 32, false);
}

/**
 * The one honest way to combine clients: add their counts bucket by bucket. Percentiles of the
 * parts cannot be combined into percentiles of the whole.
 */
export function merge(encoded: readonly string[]): Histogram {
  const total = newHistogram();
  for (const s of encoded) total.add(decode(s));
  return total;
}

/** Latency of ok requests, milliseconds. */
export const LatencySummarySchema = z.object({
  count: z.number().int().positive(),
  min: z.number(),
  mean: z.number(),
  stdev: z.number(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  p999: z.number(),
  max: z.number(),
});
export type LatencySummary = z.infer<typeof LatencySummarySchema>;

/** The percentile fields of a LatencySummary, in reporting order. */
export const PERCENTILES = [
  ["p50", 50],
  ["p90", 90],
  ["p99", 99],
  ["p999", 99.9],
] as const;

const US_PER_MS = 1000;

/** Null for an empty histogram: no ok request means no latency, not a latency of 0. */
export function summarise(h: Histogram): LatencySummary | null {
  if (h.totalCount === 0) return null;
  const ms = (us: number) => us / US_PER_MS;
  return {
    count: h.totalCount,
    // Percentile 0 is the lowest recorded bucket, zero included (minNonZeroValue would skip it).
    min: ms(h.getValueAtPercentile(0)),
    mean: ms(h.mean),
    stdev: ms(h.stdDeviation),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

/** How late sends left behind their intended time (open model, where the tool knows), ms. */
export const SendLagSummarySchema = z.object({
  count: z.number().int().positive(),
  p50: z.number(),
  p99: z.number(),
  max: z.number(),
});
export type SendLagSummary = z.infer<typeof SendLagSummarySchema>;

export function summariseLag(h: Histogram): SendLagSummary | null {
  if (h.totalCount === 0) return null;
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50) / US_PER_MS,
    p99: h.getValueAtPercentile(99) / US_PER_MS,
    max: h.maxValue / US_PER_MS,
  };
}
