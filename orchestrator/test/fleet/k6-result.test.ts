import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { HISTOGRAM_SETTINGS } from "../../../loadtests/contract/env.js";
import { decode, newHistogram } from "../../src/measure/histogram.js";
import {
  classify,
  K6_HDR_FILE,
  K6_OUTPUT_ARGS,
  K6HdrFileSchema,
  k6HdrToResult,
  K6JsonAccumulator,
  networkKind,
  parseK6JsonOutput,
  readK6Result,
  type K6ResultMeta,
} from "../../src/fleet/k6-result.js";

// Fixtures written by the Go extension's own tests (cd loadtests/k6 && go test ./hdrout -update).
const testdata = join(import.meta.dirname, "../../../loadtests/k6/hdrout/testdata");
const dir = mkdtempSync(join(tmpdir(), "k6-result-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const meta = (more: Partial<K6ResultMeta> = {}): K6ResultMeta => ({
  group: "g",
  clientIndex: 2,
  loadModel: "open",
  window: { startedAt: 1000, endedAt: 6000 },
  notes: [],
  ...more,
});

describe("hdrhistogram-go's encoding → hdr-histogram-js", () => {
  const fx = JSON.parse(readFileSync(join(testdata, "roundtrip.json"), "utf8")) as {
    histogram: string;
    count: number;
    min: number;
    max: number;
    percentiles: Record<string, number>;
  };
  // The values the Go test recorded (aggregate_test.go roundTripValues).
  const values: number[] = [];
  for (let i = 0n; i < 10000n; i++) values.push(Number(1n + ((i * i * 7919n) % 2_000_000n)));
  values.push(1, 123_456_789, 3_600_000_000);

  it("decodes with the orchestrator's decode: same count, min, max and percentiles as Go", () => {
    const h = decode(fx.histogram);
    expect(h.totalCount).toBe(fx.count);
    expect(h.totalCount).toBe(values.length);
    expect(h.getValueAtPercentile(0)).toBe(fx.min);
    expect(h.maxValue).toBe(fx.max);
    // The two libraries round a percentile's rank differently (p10 of 10 003 values: the 1000th
    // or the 1001st), which can land one bucket apart: within the 3 digits' 0.1%.
    for (const [q, v] of Object.entries(fx.percentiles)) {
      expect(Math.abs(h.getValueAtPercentile(Number(q)) - v), `p${q}`).toBeLessThanOrEqual(v * 0.001 + 1);
    }
  });

  it("equals the same values recorded by hdr-histogram-js with the lab's settings", () => {
    const go = decode(fx.histogram);
    const js = newHistogram();
    for (const v of values) js.recordValue(v);
    expect(go.totalCount).toBe(js.totalCount);
    for (const q of [0, 1, 25, 50, 75, 90, 99, 99.9, 99.99, 100]) expect(go.getValueAtPercentile(q)).toBe(js.getValueAtPercentile(q));
    expect(go.mean).toBeCloseTo(js.mean, 6);
    // bucket by bucket (the footer's exact max is not in an encoding: the decoded one says its bucket's top)
    const table = (h: typeof go) => h.outputPercentileDistribution(5, 1).replace(/#\[Max .*\n/, "");
    expect(table(go)).toBe(table(js));
    // and they merge: bucket layouts agree
    js.add(go);
    expect(js.totalCount).toBe(2 * values.length);
    expect(js.getValueAtPercentile(50)).toBe(go.getValueAtPercentile(50));
  });
});

describe("the extension's file → ClientResult", () => {
  it("selects the fiblab-hdr output into /out", () => {
    expect(K6_OUTPUT_ARGS).toEqual(["--out", `fiblab-hdr=/out/${K6_HDR_FILE}`]);
  });

  it("reads the measure phase of the group: counts, errors, histogram, workers, dropped, intervals", async () => {
    copyFileSync(join(testdata, "k6-hdr.json"), join(dir, K6_HDR_FILE));
    const r = await readK6Result(dir, meta({ notes: ["given"] }));
    expect(r.tool).toBe("k6");
    expect(r.clientIndex).toBe(2);
    expect([r.startedAt, r.endedAt]).toEqual([1000, 6000]);
    // fixture (aggregate_test.go TestAggregate): 98 ok, 2 wrong answers, 2 x 5xx, timeout, reset, EOF
    expect(r.requests).toEqual({ sent: 105, completed: 102, ok: 98 });
    expect(r.errors).toEqual({ wrong_answer: 2, http_5xx: 2, timeout: 1, reset: 1, closed: 1 });
    expect(r.dropped).toBe(4);
    expect(r.workers).toEqual({ "a/1": 50, "b/2": 50 });
    const h = decode(r.histogram);
    expect(h.totalCount).toBe(98);
    expect(h.getValueAtPercentile(0)).toBeGreaterThanOrEqual(1249);
    expect(h.getValueAtPercentile(0)).toBeLessThanOrEqual(1251);
    expect(h.maxValue).toBeGreaterThanOrEqual(100_200);
    expect(h.maxValue).toBeLessThanOrEqual(100_300);
    expect(r.intervals?.length).toBeGreaterThanOrEqual(2);
    const iv = r.intervals ?? [];
    expect(iv.reduce((a, i) => a + i.ok, 0)).toBe(98);
    expect(iv.reduce((a, i) => a + Object.values(i.errors).reduce((x, y) => x + y, 0), 0)).toBe(7);
    for (const i of iv) expect(decode(i.histogram).totalCount).toBe(i.ok);
    expect(r.notes[0]).toBe("given");
    expect(r.notes.join(" ")).toMatch(/dropped/);
  });

  it("gives an empty result, with a note, for a group without requests", () => {
    const file = K6HdrFileSchema.parse(JSON.parse(readFileSync(join(testdata, "k6-hdr.json"), "utf8")));
    const r = k6HdrToResult(file, meta({ group: "other", loadModel: "closed" }));
    expect(r.requests).toEqual({ sent: 0, completed: 0, ok: 0 });
    expect(decode(r.histogram).totalCount).toBe(0);
    expect(r.notes.join(" ")).toMatch(/no request of group other/);
    expect(r.notes.join(" ")).not.toMatch(/dropped/);
  });

  it("notes a mismatch with http_reqs, clamped values and k6's error; rejects a lying ok count", () => {
    const file = K6HdrFileSchema.parse(JSON.parse(readFileSync(join(testdata, "k6-hdr.json"), "utf8")));
    const m = file.groups.g!.measure!;
    const r = k6HdrToResult({ ...file, clamped: 3, testError: "boom", groups: { g: { measure: { ...m, httpReqs: 106 } } } }, meta());
    expect(r.notes.join(" ")).toMatch(/http_reqs is 106 but the outcome histograms hold 105/);
    expect(r.notes.join(" ")).toMatch(/3 latency value/);
    expect(r.notes.join(" ")).toMatch(/boom/);
    expect(() => k6HdrToResult({ ...file, groups: { g: { measure: { ...m, counts: { ...m.counts, ok: 97 } } } } }, meta())).toThrow(/97/);
  });

  it("rejects a missing or foreign file", async () => {
    const empty = mkdtempSync(join(dir, "none-"));
    await expect(readK6Result(empty, meta())).rejects.toThrow(/ENOENT/);
    writeFileSync(join(empty, K6_HDR_FILE), JSON.stringify({ format: "other" }));
    await expect(readK6Result(empty, meta())).rejects.toThrow(/format/);
  });
});

describe("the opt-in JSON debug output", () => {
  function point(metric: string, value: number, tags: Record<string, string>) {
    return JSON.stringify({
      metric,
      type: "Point",
      data: { time: "2026-01-01T00:00:01.000Z", value, tags: { client_group: "g", ...tags } },
    });
  }
  /** Lines as k6 writes them for one request with fib.js's tags. */
  function request(
    phase: string,
    status: string,
    ms: number,
    more: { code?: string; error?: string; worker?: string; wrong?: boolean } = {},
  ) {
    const t: Record<string, string> = { phase, scenario: phase, status };
    if (more.code) t.error_code = more.code;
    if (more.error) t.error = more.error;
    const lines = [
      point("http_reqs", 1, t),
      point("http_req_duration", ms, t),
      point("http_req_waiting", ms, t),
      point("iterations", 1, { phase, scenario: phase }),
    ];
    if (more.worker) lines.push(point("fiblab_worker", 1, { phase, scenario: phase, worker: more.worker }));
    if (more.wrong) lines.push(point("fiblab_wrong_answer", ms, { phase, scenario: phase }));
    return lines;
  }
  function fixture(): string[] {
    const lines = [JSON.stringify({ type: "Metric", data: { name: "http_reqs", type: "counter" }, metric: "http_reqs" })];
    lines.push(...request("warmup", "200", 9000, { worker: "w/1" }), point("dropped_iterations", 3, { scenario: "warmup" }));
    for (let i = 1; i <= 100; i++) lines.push(...request("measure", "200", i + 0.25, { worker: i % 2 ? "a/1" : "b/2" }));
    lines.push(...request("measure", "200", 3, { worker: "a/1", wrong: true }));
    lines.push(...request("measure", "503", 2, { code: "1503", worker: "b/2" }));
    lines.push(...request("measure", "0", 10000, { code: "1050", error: "request timeout" }));
    lines.push(...request("measure", "0", 1, { code: "1000", error: "EOF" }));
    lines.push(point("dropped_iterations", 4, { scenario: "measure" }));
    return lines;
  }

  it("classifies as the extension does", () => {
    expect(networkKind(1050)).toBe("timeout");
    expect(networkKind(1212)).toBe("connect");
    expect(networkKind(1220)).toBe("reset");
    expect(networkKind(1000, "EOF")).toBe("closed");
    expect(networkKind(1000, "odd")).toBe("k6_1000");
    expect(classify("200", undefined, undefined)).toBe("ok");
    expect(classify("404", "1404", undefined)).toBe("http_4xx");
    expect(classify("0", "1211", "dial: i/o timeout")).toBe("timeout");
  });

  it("reads the measure phase of a gzipped --out json file", async () => {
    const file = join(dir, "k6.json.gz");
    writeFileSync(file, gzipSync(fixture().join("\n") + "\n"));
    const r = await parseK6JsonOutput(file, meta());
    expect(r.requests).toEqual({ sent: 104, completed: 102, ok: 100 });
    expect(r.errors).toEqual({ wrong_answer: 1, http_5xx: 1, timeout: 1, closed: 1 });
    expect(r.dropped).toBe(4);
    expect(r.workers).toEqual({ "a/1": 51, "b/2": 51 });
    const h = decode(r.histogram);
    expect(h.totalCount).toBe(100);
    expect(h.getValueAtPercentile(0)).toBeGreaterThanOrEqual(1249);
  });

  it("skips unparsable lines with a note; rejects a truncated gzip file", async () => {
    const acc = new K6JsonAccumulator();
    for (const l of fixture()) acc.addLine(l);
    acc.addLine("{not json");
    const r = acc.result(meta());
    acc.destroy();
    expect(r.requests.ok).toBe(100);
    expect(r.notes.join(" ")).toMatch(/1 unparsable/);
    const cut = join(dir, "cut.json.gz");
    const gz = gzipSync(fixture().join("\n"));
    writeFileSync(cut, gz.subarray(0, gz.length - 20));
    await expect(parseK6JsonOutput(cut, meta())).rejects.toThrow();
  });

  it("uses the lab's histogram settings", () => {
    expect(HISTOGRAM_SETTINGS.numberOfSignificantValueDigits).toBe(3);
    expect(HISTOGRAM_SETTINGS.lowestDiscernibleValue).toBe(1);
  });
});
