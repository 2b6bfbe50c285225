import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import hdr from "hdr-histogram-js";
import { afterAll, describe, expect, it } from "vitest";
import { K6Accumulator, parseK6Output } from "../../src/fleet/k6-result.js";

const dir = mkdtempSync(join(tmpdir(), "k6-result-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function point(metric: string, value: number, tags: Record<string, string>, time = "2026-01-01T00:00:01.000Z") {
  return JSON.stringify({ metric, type: "Point", data: { time, value, tags: { client_group: "g", ...tags } } });
}
const meta = (metric: string, type: string) => JSON.stringify({ type: "Metric", data: { name: metric, type }, metric });

/** Lines as k6 writes them for one request of the given phase and outcome. */
function request(phase: string, status: string, durationMs: number, opts: { ok?: boolean; kind?: string; worker?: string; time?: string } = {}) {
  const t = { phase, scenario: phase };
  const lines = [
    point("http_reqs", 1, { ...t, status, expected_response: String(status === "200") }, opts.time),
    point("http_req_duration", durationMs, { ...t, status, expected_response: String(status === "200") }, opts.time),
    point("iterations", 1, t, opts.time),
  ];
  if (opts.worker) lines.push(point("fiblab_worker", 1, { ...t, worker: opts.worker }, opts.time));
  if (opts.ok) lines.push(point("fiblab_ok_duration", durationMs, t, opts.time));
  if (opts.kind) lines.push(point("fiblab_errors", 1, { ...t, kind: opts.kind }, opts.time));
  return lines;
}

function fixture(): string[] {
  const lines = [meta("http_reqs", "counter"), meta("http_req_duration", "trend")];
  // warm-up: must all be ignored, including a huge latency and a drop
  lines.push(...request("warmup", "200", 9000, { ok: true, worker: "w/1" }));
  lines.push(...request("warmup", "500", 1, { kind: "http_5xx", worker: "w/1" }));
  lines.push(point("dropped_iterations", 3, { scenario: "warmup" }));
  // measurement: 100 ok at 1..100 ms, 2 x 5xx, 1 wrong body, 1 timeout (status 0), 4 dropped
  for (let i = 1; i <= 100; i++) {
    lines.push(...request("measure", "200", i + 0.25, { ok: true, worker: i % 2 ? "a/1" : "b/2", time: `2026-01-01T00:00:${String(10 + (i % 40)).padStart(2, "0")}.000Z` }));
  }
  lines.push(...request("measure", "503", 2, { kind: "http_5xx", worker: "a/1" }));
  lines.push(...request("measure", "500", 2, { kind: "http_5xx", worker: "b/2" }));
  lines.push(...request("measure", "200", 3, { kind: "wrong_answer", worker: "a/1" }));
  lines.push(...request("measure", "0", 10000, { kind: "timeout" }));
  lines.push(point("dropped_iterations", 4, { scenario: "measure" }));
  lines.push(point("vus", 5, {}));
  return lines;
}

describe("k6 output → ClientResult", () => {
  it("counts only the measurement phase and builds a µs histogram of ok replies", async () => {
    const file = join(dir, "k6.json.gz");
    writeFileSync(file, gzipSync(fixture().join("\n") + "\n"));
    const r = await parseK6Output(file, { group: "g", clientIndex: 2, loadModel: "open", window: { startedAt: 1000, endedAt: 6000 } });
    expect(r.tool).toBe("k6");
    expect(r.clientIndex).toBe(2);
    expect(r.startedAt).toBe(1000);
    expect(r.endedAt).toBe(6000);
    expect(r.requests).toEqual({ sent: 104, completed: 103, ok: 100 });
    expect(r.errors).toEqual({ http_5xx: 2, wrong_answer: 1, timeout: 1 });
    expect(r.dropped).toBe(4);
    expect(r.workers).toEqual({ "a/1": 52, "b/2": 51 });
    const h = hdr.decodeFromCompressedBase64(r.histogram);
    expect(h.totalCount).toBe(100);
    expect(h.minNonZeroValue).toBeGreaterThanOrEqual(1249);
    expect(h.minNonZeroValue).toBeLessThanOrEqual(1251);
    expect(h.maxValue).toBeGreaterThanOrEqual(100_200);
    expect(h.maxValue).toBeLessThanOrEqual(100_300);
    expect(h.getValueAtPercentile(50)).toBeGreaterThan(49_000);
    expect(h.getValueAtPercentile(50)).toBeLessThan(52_000);
  });

  it("takes the window from the measure points when none is given, and reads plain JSON", async () => {
    const file = join(dir, "k6.json");
    writeFileSync(file, fixture().join("\n"));
    const r = await parseK6Output(file, { group: "g", clientIndex: 0, loadModel: "closed" });
    expect(r.startedAt).toBe(Date.parse("2026-01-01T00:00:01.000Z"));
    expect(r.endedAt).toBe(Date.parse("2026-01-01T00:00:49.000Z"));
    expect(r.loadModel).toBe("closed");
  });

  it("falls back to http_req_duration{expected_response:true} without fiblab_ok_duration", () => {
    const acc = new K6Accumulator();
    for (const l of fixture().filter((l) => !l.includes("fiblab_ok_duration"))) acc.addLine(l);
    acc.addLine("{not json");
    const r = acc.result({ group: "g", clientIndex: 0, loadModel: "open" });
    expect(r.requests.ok).toBe(101); // the wrong body cannot be told apart without the script's metric
    expect(r.notes.join(" ")).toMatch(/fallback|no fiblab_ok_duration/);
    expect(r.notes.join(" ")).toMatch(/1 unparsable/);
    acc.destroy();
  });

  it("rejects a truncated gzip file", async () => {
    const file = join(dir, "cut.json.gz");
    const gz = gzipSync(fixture().join("\n"));
    writeFileSync(file, gz.subarray(0, gz.length - 20));
    await expect(parseK6Output(file, { group: "g", clientIndex: 0, loadModel: "open" })).rejects.toThrow();
  });
});
