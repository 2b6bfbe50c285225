import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { createInterface } from "node:readline";
import hdr from "hdr-histogram-js";
import { ClientResultSchema, type ClientResult } from "../../../loadtests/contract/result.js";

/**
 * Turns the JSON output of one k6 instance running loadtests/k6/fib.js into a ClientResult.
 *
 * Points of the warm-up are told apart by their `phase` tag (set per scenario in fib.js;
 * dropped_iterations only carries the scenario name, which is the same word). Only points of the
 * `measure` phase count. The histogram is built from `fiblab_ok_duration` (the duration of each
 * correct 200 reply, in ms with µs precision) so that wrong bodies never reach it; a script that
 * does not emit it falls back to http_req_duration{expected_response:true}.
 */

type Tags = Record<string, string | undefined>;
interface K6Line {
  type?: string;
  metric?: string;
  data?: { time?: string; value?: number; tags?: Tags | null };
}

export interface K6ParseOptions {
  group: string;
  clientIndex: number;
  loadModel: "open" | "closed";
  /** Measurement window in epoch ms; without it, the window is taken from the first and last measure points. */
  window?: { startedAt: number; endedAt: number };
  notes?: string[];
}

export function newLatencyHistogram() {
  return hdr.build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  });
}

/** ms (float) → µs, at least 1 so that a sub-µs value is still counted. */
export function msToUs(ms: number): number {
  return Math.max(1, Math.round(ms * 1000));
}

function phaseOf(tags: Tags | null | undefined): string | undefined {
  return tags?.phase ?? tags?.scenario;
}

/** Accumulates k6 JSON lines; feed it every line, then ask for the result. Pure, for tests. */
export class K6Accumulator {
  private okHist = newLatencyHistogram();
  private fallbackHist = newLatencyHistogram();
  private okPoints = 0;
  private fallbackPoints = 0;
  private sent = 0;
  private completed = 0;
  private dropped = 0;
  private errors: Record<string, number> = {};
  private workers: Record<string, number> = {};
  private firstMs = Infinity;
  private lastMs = -Infinity;
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
    if (phaseOf(tags) !== "measure") return;
    const value = p.data.value ?? 0;
    if (p.data.time) {
      const t = Date.parse(p.data.time);
      if (Number.isFinite(t)) {
        if (t < this.firstMs) this.firstMs = t;
        if (t > this.lastMs) this.lastMs = t;
      }
    }
    switch (p.metric) {
      case "http_reqs":
        this.sent += value;
        if (tags?.status !== undefined && tags.status !== "0") this.completed += value;
        break;
      case "fiblab_ok_duration":
        this.okPoints++;
        this.okHist.recordValue(msToUs(value));
        break;
      case "http_req_duration":
        if (tags?.expected_response === "true") {
          this.fallbackPoints++;
          this.fallbackHist.recordValue(msToUs(value));
        }
        break;
      case "fiblab_errors": {
        const kind = tags?.kind ?? "unknown";
        this.errors[kind] = (this.errors[kind] ?? 0) + value;
        break;
      }
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

  result(opts: K6ParseOptions): ClientResult {
    const useFallback = this.okPoints === 0 && this.fallbackPoints > 0;
    const hist = useFallback ? this.fallbackHist : this.okHist;
    const notes = [...(opts.notes ?? [])];
    notes.push("k6: latency is http_req_duration (sending + waiting + receiving), from the k6 HTTP client's timings.");
    if (opts.loadModel === "open") {
      notes.push("k6 open model (constant-arrival-rate): iterations that found no free VU are counted as dropped, not sent late.");
    }
    if (useFallback) notes.push("k6: no fiblab_ok_duration points; histogram from http_req_duration{expected_response:true} (bodies unchecked).");
    if (this.badLines) notes.push(`k6 output: ${this.badLines} unparsable line(s) skipped.`);
    const window = opts.window ?? {
      startedAt: Number.isFinite(this.firstMs) ? this.firstMs : 0,
      endedAt: Number.isFinite(this.lastMs) ? this.lastMs : 0,
    };
    const result = ClientResultSchema.parse({
      tool: "k6",
      loadModel: opts.loadModel,
      group: opts.group,
      clientIndex: opts.clientIndex,
      startedAt: window.startedAt,
      endedAt: window.endedAt,
      requests: {
        sent: Math.round(this.sent),
        completed: Math.round(this.completed),
        ok: useFallback ? this.fallbackPoints : this.okPoints,
      },
      errors: Object.fromEntries(Object.entries(this.errors).map(([k, v]) => [k, Math.round(v)])),
      dropped: Math.round(this.dropped),
      histogram: hdr.encodeIntoCompressedBase64(hist),
      workers: Object.fromEntries(Object.entries(this.workers).map(([k, v]) => [k, Math.round(v)])),
      notes,
    });
    return result;
  }

  destroy(): void {
    this.okHist.destroy();
    this.fallbackHist.destroy();
  }
}

/** Stream-parses a k6 `--out json=` file (gzipped when its name ends in .gz) into a ClientResult. */
export async function parseK6Output(file: string, opts: K6ParseOptions): Promise<ClientResult> {
  const acc = new K6Accumulator();
  try {
    const raw = createReadStream(file);
    const input = file.endsWith(".gz") ? raw.pipe(createGunzip()) : raw;
    raw.on("error", (e) => input.destroy(e));
    const rl = createInterface({ input, crlfDelay: Infinity });
    for await (const line of rl) acc.addLine(line);
    return acc.result(opts);
  } finally {
    acc.destroy();
  }
}
