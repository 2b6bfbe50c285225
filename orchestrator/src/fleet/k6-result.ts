import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createGunzip } from "node:zlib";
import { createInterface } from "node:readline";
import hdr from "hdr-histogram-js";
import { z } from "zod";
import { HISTOGRAM_SETTINGS, OUT_DIR } from "../../../loadtests/contract/env.js";
import { ClientResultSchema, IntervalSchema, type ClientResult } from "../../../loadtests/contract/result.js";

/**
 * One k6 instance's results as a ClientResult.
 *
 * k6 is built with fiblab's output extension (loadtests/k6/hdrout, `--out fiblab-hdr=FILE`): it
 * keeps HdrHistograms in memory, per client group, phase (warmup | measure, fib.js's `phase` tag)
 * and outcome, plus one per second of the measured window, and writes them once at the end of the
 * run into K6_HDR_FILE. Every request k6 counts in http_reqs is in exactly one outcome histogram:
 * ok (status 200 and, where fib.js knows the answer, the right body), wrong_answer, http_4xx,
 * http_5xx, http_other, or the network error's kind (timeout, connect, reset, closed, k6_<code>).
 * readK6Result turns that file into the contract's ClientResult.
 *
 * `--out json=...` (K6_DEBUG_JSON_ARGS) still works for debugging: parseK6JsonOutput reads such a
 * file into the same ClientResult, slowly (about a dozen lines per request); the integration test
 * uses it to check the extension against k6's own per-request trail.
 */

/** The extension's file in a client's output folder. */
export const K6_HDR_FILE = "k6-hdr.json";
/** k6 CLI arguments that select fiblab's output (the file lands in the folder mounted at /out). */
export const K6_OUTPUT_ARGS: string[] = ["--out", `fiblab-hdr=${OUT_DIR}/${K6_HDR_FILE}`];
/** Opt-in, for debugging: k6's own per-request JSON lines, beside the histograms. */
export const K6_DEBUG_JSON_FILE = "k6.json.gz";
export const K6_DEBUG_JSON_ARGS: string[] = ["--out", `json=${OUT_DIR}/${K6_DEBUG_JSON_FILE}`];

export interface K6ResultMeta {
  group: string;
  clientIndex: number;
  loadModel: "open" | "closed";
  /** The measurement window, epoch ms (k6's release + warm-up, + duration). */
  window: { startedAt: number; endedAt: number };
  notes: string[];
}

const Count = z.number().int().nonnegative();

/** One group and phase in the extension's file (loadtests/k6/hdrout/aggregate.go, Phase). */
export const K6HdrPhaseSchema = z.object({
  /** k6's http_reqs for the phase; the sum of counts. */
  httpReqs: Count,
  counts: z.record(z.string(), Count),
  /** By outcome: µs, HdrHistogram V2 compressed, base64. */
  histograms: z.record(z.string(), z.string()),
  dropped: Count,
  workers: z.record(z.string(), Count).nullable().default({}),
  firstMs: z.number(),
  lastMs: z.number(),
  intervals: z.array(IntervalSchema).optional(),
  unmatched: Count.optional(),
  intervalUnmatched: Count.optional(),
});
export type K6HdrPhase = z.infer<typeof K6HdrPhaseSchema>;

export const K6HdrFileSchema = z.object({
  format: z.literal("fiblab-k6-hdr/1"),
  settings: z.object({
    unit: z.literal("us"),
    lowest: z.literal(HISTOGRAM_SETTINGS.lowestDiscernibleValue),
    highest: z.number(),
    significantDigits: z.literal(HISTOGRAM_SETTINGS.numberOfSignificantValueDigits),
  }),
  writtenAt: z.number(),
  groups: z.record(z.string(), z.record(z.string(), K6HdrPhaseSchema)),
  clamped: Count,
  samples: Count,
  testError: z.string().optional(),
});
export type K6HdrFile = z.infer<typeof K6HdrFileSchema>;

export const MEASURE_PHASE = "measure";
const OK = "ok";
/** Outcomes that got a reply (every other error kind is a request that got none). */
const REPLIED = new Set([OK, "wrong_answer", "http_4xx", "http_5xx", "http_other"]);

function k6Notes(meta: K6ResultMeta): string[] {
  const notes = [...meta.notes];
  notes.push("k6: latency is http_req_duration (sending + waiting + receiving), from the k6 HTTP client's timings.");
  if (meta.loadModel === "open") {
    notes.push("k6 open model (constant-arrival-rate): iterations that found no free VU are counted as dropped, not sent late.");
  }
  return notes;
}

function emptyHistogram(): string {
  const h = hdr.build(HISTOGRAM_SETTINGS);
  try {
    return hdr.encodeIntoCompressedBase64(h);
  } finally {
    h.destroy();
  }
}

function histogramCount(encoded: string): number {
  const h = hdr.decodeFromCompressedBase64(encoded, HISTOGRAM_SETTINGS.bitBucketSize, false);
  try {
    return h.totalCount;
  } finally {
    h.destroy();
  }
}

/** The file's content → the contract's ClientResult (pure). */
export function k6HdrToResult(file: K6HdrFile, meta: K6ResultMeta): ClientResult {
  const notes = k6Notes(meta);
  const phase = file.groups[meta.group]?.[MEASURE_PHASE];
  if (!phase) notes.push(`k6: no request of group ${meta.group} in the measured window.`);
  const counts = phase?.counts ?? {};
  const sum = Object.values(counts).reduce((a, b) => a + b, 0);
  const sent = phase?.httpReqs ?? 0;
  if (phase && sent !== sum) notes.push(`k6: http_reqs is ${sent} but the outcome histograms hold ${sum} requests.`);
  const histogram = phase?.histograms[OK] ?? emptyHistogram();
  const ok = counts[OK] ?? 0;
  const inHistogram = histogramCount(histogram);
  if (inHistogram !== ok) throw new Error(`${K6_HDR_FILE}: the ok histogram holds ${inHistogram} values, its count says ${ok}`);
  const errors: Record<string, number> = {};
  let completed = 0;
  for (const [kind, n] of Object.entries(counts)) {
    if (REPLIED.has(kind)) completed += n;
    if (kind !== OK && n > 0) errors[kind] = n;
  }
  if (file.clamped) notes.push(`k6: ${file.clamped} latency value(s) above one hour recorded as one hour.`);
  const unmatched = (phase?.unmatched ?? 0) + (phase?.intervalUnmatched ?? 0);
  if (unmatched) notes.push(`k6: ${unmatched} wrong answer(s) could not be matched to their request's latency bucket.`);
  if (file.testError) notes.push(`k6 ended with an error: ${file.testError}`);
  return ClientResultSchema.parse({
    tool: "k6",
    loadModel: meta.loadModel,
    group: meta.group,
    clientIndex: meta.clientIndex,
    startedAt: meta.window.startedAt,
    endedAt: meta.window.endedAt,
    requests: { sent, completed, ok },
    errors,
    dropped: phase?.dropped ?? 0,
    histogram,
    ...(phase?.intervals ? { intervals: phase.intervals } : {}),
    workers: phase?.workers ?? {},
    notes,
  });
}

/** Reads the extension's file from a k6 client's output folder into a validated ClientResult. */
export async function readK6Result(outDir: string, meta: K6ResultMeta): Promise<ClientResult> {
  const file = path.join(outDir, K6_HDR_FILE);
  let parsed: K6HdrFile;
  try {
    parsed = K6HdrFileSchema.parse(JSON.parse(await readFile(file, "utf8")));
  } catch (err) {
    throw new Error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return k6HdrToResult(parsed, meta);
}

// --- The opt-in debug path: k6's --out json lines --------------------------------------------

/** ms (float) → µs, at least 1 so that a sub-µs value is still counted (as the extension does). */
export function msToUs(ms: number): number {
  return Math.max(1, Math.round(ms * 1000));
}

/** k6 error code and message → the lab's error kind (the extension's NetworkKind). */
export function networkKind(code: number, message?: string): string {
  if (code === 1050 || code === 1211) return "timeout";
  if (code === 1210 || code === 1212 || code === 1213 || (code >= 1100 && code < 1200)) return "connect";
  if (code === 1201 || code === 1220) return "reset";
  if (message && /EOF|closed/i.test(message)) return "closed";
  return `k6_${code || 0}`;
}

/** A request's outcome from its trail's tags (the extension's Classify); 200 is ok until fib.js says otherwise. */
export function classify(status: string | undefined, errorCode: string | undefined, error: string | undefined): string {
  const st = Number(status);
  if (!status || !Number.isInteger(st) || st === 0) return networkKind(Number(errorCode) || 0, error);
  if (st === 200) return OK;
  if (st >= 500) return "http_5xx";
  if (st >= 400) return "http_4xx";
  return "http_other";
}

type Tags = Record<string, string | undefined>;
interface K6Line {
  type?: string;
  metric?: string;
  data?: { time?: string; value?: number; tags?: Tags | null };
}

/** Accumulates k6 JSON lines of the measure phase; feed it every line, then ask for the result. */
export class K6JsonAccumulator {
  private ok200 = hdr.build(HISTOGRAM_SETTINGS);
  private wrong = hdr.build(HISTOGRAM_SETTINGS);
  private httpReqs = 0;
  private counts: Record<string, number> = {};
  private dropped = 0;
  private workers: Record<string, number> = {};
  lines = 0;
  badLines = 0;

  addLine(line: string): void {
    if (!line) return;
    this.lines++;
    let p: K6Line;
    try {
      p = JSON.parse(line) as K6Line;
    } catch {
      this.badLines++;
      return;
    }
    if (p.type !== "Point" || !p.data) return;
    const tags = p.data.tags;
    if ((tags?.phase ?? tags?.scenario) !== MEASURE_PHASE) return;
    const value = p.data.value ?? 0;
    switch (p.metric) {
      case "http_reqs":
        this.httpReqs += value;
        break;
      case "http_req_duration": {
        const kind = classify(tags?.status, tags?.error_code, tags?.error);
        this.counts[kind] = (this.counts[kind] ?? 0) + 1;
        if (kind === OK) this.ok200.recordValue(msToUs(value));
        break;
      }
      case "fiblab_wrong_answer":
        this.wrong.recordValue(msToUs(value));
        break;
      case "fiblab_worker": {
        const w = tags?.worker ?? "unknown";
        this.workers[w] = (this.workers[w] ?? 0) + value;
        break;
      }
      case "dropped_iterations":
        this.dropped += value;
        break;
      default:
        break;
    }
  }

  result(meta: K6ResultMeta): ClientResult {
    const ok = hdr.build(HISTOGRAM_SETTINGS);
    try {
      ok.add(this.ok200);
      ok.subtract(this.wrong);
      const counts = { ...this.counts };
      const wrong = this.wrong.totalCount;
      if (wrong) {
        counts[OK] = (counts[OK] ?? 0) - wrong;
        counts.wrong_answer = wrong;
      }
      const phase: K6HdrPhase = {
        httpReqs: Math.round(this.httpReqs),
        counts,
        histograms: { [OK]: hdr.encodeIntoCompressedBase64(ok) },
        dropped: Math.round(this.dropped),
        workers: Object.fromEntries(Object.entries(this.workers).map(([k, v]) => [k, Math.round(v)])),
        firstMs: 0,
        lastMs: 0,
      };
      const file: K6HdrFile = {
        format: "fiblab-k6-hdr/1",
        settings: { unit: "us", lowest: 1, highest: 3_600_000_000, significantDigits: 3 },
        writtenAt: Date.now(),
        groups: this.httpReqs || this.lines ? { [meta.group]: { [MEASURE_PHASE]: phase } } : {},
        clamped: 0,
        samples: this.lines,
      };
      const notes = [...meta.notes, "k6: read from the --out json debug output."];
      if (this.badLines) notes.push(`k6 output: ${this.badLines} unparsable line(s) skipped.`);
      return k6HdrToResult(file, { ...meta, notes });
    } finally {
      ok.destroy();
    }
  }

  destroy(): void {
    this.ok200.destroy();
    this.wrong.destroy();
  }
}

/** Stream-parses a k6 `--out json=` file (gzipped when its name ends in .gz) into a ClientResult. */
export async function parseK6JsonOutput(file: string, meta: K6ResultMeta): Promise<ClientResult> {
  const acc = new K6JsonAccumulator();
  try {
    const raw = createReadStream(file);
    const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
    raw.on("error", (e) => input.destroy(e));
    const rl = createInterface({ input, crlfDelay: Infinity });
    for await (const line of rl) acc.addLine(line);
    return acc.result(meta);
  } finally {
    acc.destroy();
  }
}
