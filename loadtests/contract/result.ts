import { z } from "zod";

/**
 * The client contract, second half: what one load client measured in its measurement window
 * (warm-up excluded), written as result.json in its output folder. Every tool (k6, autocannon,
 * the TCP client) ends up in this shape; the orchestrator merges the histograms of a cell's
 * clients, never their percentiles. The clients import only the type (erased at run time).
 */

/** One second of the measurement window (for time series). */
export const IntervalSchema = z.object({
  /** Start of the second, epoch ms. */
  t: z.number(),
  /** Requests started in this second (open model: intended) that got the correct reply. */
  ok: z.number().int().nonnegative(),
  /** Requests started in this second that failed, by kind. */
  errors: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /** HdrHistogram of this second's ok latencies, µs, compressed base64. */
  histogram: z.string(),
  /**
   * Replies per X-Worker value among the requests started in this second (HTTP only, where the
   * tool reports it per second): how many workers were answering, second by second.
   */
  workers: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export type Interval = z.infer<typeof IntervalSchema>;

export const ClientResultSchema = z.object({
  tool: z.enum(["k6", "autocannon", "tcp"]),
  loadModel: z.enum(["open", "closed"]),
  /** Client group name from the scenario (e.g. "perf1"). */
  group: z.string(),
  clientIndex: z.number().int().nonnegative(),
  /** Measurement window, epoch milliseconds. */
  startedAt: z.number(),
  endedAt: z.number(),
  requests: z.object({
    /** Requests that were sent (open model: sends actually made). */
    sent: z.number().int().nonnegative(),
    /** Requests that got any reply. */
    completed: z.number().int().nonnegative(),
    /** Requests whose reply was the correct, successful one. Only these are in the histogram. */
    ok: z.number().int().nonnegative(),
  }),
  /** Errors by kind: connect, reset, timeout, error_reply, http_4xx, http_5xx, wrong_answer, ... */
  errors: z.record(z.string(), z.number().int().nonnegative()),
  /** Open model: intended requests that were never sent (k6: dropped_iterations). */
  dropped: z.number().int().nonnegative().default(0),
  /** HdrHistogram of latencies of ok requests, µs, compressed base64 (see HISTOGRAM_SETTINGS). */
  histogram: z.string(),
  /**
   * Open model, where the tool knows it: HdrHistogram (µs) of how late each send left behind its
   * intended time. Latency counts from the intended time, so this lag is inside every figure.
   */
  sendLag: z.string().optional(),
  /** Per-second figures over the window, where the tool gives them. */
  intervals: z.array(IntervalSchema).optional(),
  /** Count of replies per X-Worker value (HTTP only; empty for TCP). */
  workers: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /** Anything the reader of the report must know about this figure (e.g. autocannon's 1 ms resolution). */
  notes: z.array(z.string()).default([]),
});

export type ClientResult = z.infer<typeof ClientResultSchema>;
