import { z } from "zod";

/**
 * What one load client measured in its measurement window (warm-up excluded).
 * Every tool (k6, autocannon, the TCP client) ends up in this shape; the orchestrator
 * merges the histograms of a cell's clients, never their percentiles.
 */
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
  /** Open model: intended requests that were never sent (k6 dropped_iterations, TCP client's lag). */
  dropped: z.number().int().nonnegative().default(0),
  /** HdrHistogram of latencies of ok requests, in microseconds, base64 compressed (hdr-histogram-js encodeIntoCompressedBase64). */
  histogram: z.string(),
  /** Count of replies per X-Worker value (HTTP only; empty for TCP). */
  workers: z.record(z.string(), z.number().int().nonnegative()).default({}),
  /** Anything the reader of the report must know about this figure (e.g. autocannon's 1 ms resolution). */
  notes: z.array(z.string()).default([]),
});

export type ClientResult = z.infer<typeof ClientResultSchema>;
