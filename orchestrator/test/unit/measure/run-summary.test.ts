import { describe, expect, it } from "vitest";
import { RunSummarySchema } from "../../../src/measure/run-summary.js";
import { runOf, validScenario } from "../fixtures.js";

describe("summariseRun", () => {
  const scenario = validScenario(); // 2 models x 2 topologies x 1 workload (2 groups) x 3 repeats

  it("has one row per model x topology x workload x group, in scenario order", () => {
    const run = runOf(scenario);
    expect(run.rows.map((r) => r.key)).toEqual([
      "py-threads.1x1cpu-w2.fib30.main",
      "py-threads.2x0p5cpu.fib30.main",
      "gunicorn-sync.1x1cpu-w2.fib30.main",
      "gunicorn-sync.2x0p5cpu.fib30.main",
      "py-threads.1x1cpu-w2.fib30.probe",
      "py-threads.2x0p5cpu.fib30.probe",
      "gunicorn-sync.1x1cpu-w2.fib30.probe",
      "gunicorn-sync.2x0p5cpu.fib30.probe",
    ]);
    expect(run.cells).toHaveLength(12);
    expect(run.cells.map((c) => c.order)).toEqual([...Array(12).keys()]);
  });

  it("describes throughput and each percentile across repeats", () => {
    // repeat r: each of the 2 main clients gets 1000 + 100 r ok replies in 20 s
    const run = runOf(scenario, {
      okPerClient: (id) => 1000 + 100 * Number(id.slice(-1)),
      latencyUs: (id) => 1000 * Number(id.slice(-1)),
    });
    const row = run.rows[0]!;
    expect(row.repeats).toBe(3);
    expect(row.loadModel).toBe("open");
    // 2 x (1100, 1200, 1300) / 20 s = 110, 120, 130 req/s
    expect(row.throughput.mean).toBeCloseTo(120, 10);
    expect(row.throughput.stdev).toBeCloseTo(10, 10);
    expect(row.throughput.cv).toBeCloseTo(10 / 120, 10);
    expect(row.throughput.ci95!.halfWidth).toBeCloseTo((4.303 * 10) / Math.sqrt(3), 8);
    expect(row.latency.p50.mean).toBeCloseTo(2.005, 2);
    expect(row.latency.p50.min).toBeCloseTo(1.005, 2);
    expect(row.latency.p50.max).toBeCloseTo(3.005, 2);
    expect(row.latencyAllRepeats!.count).toBe(2 * (1100 + 1200 + 1300));
    expect(row.modelCores.mean).toBeCloseTo(0.8, 10);
    expect(row.modelThrottledPct.mean).toBeCloseTo(5, 10);
    expect(row.evenness.byProcessCv.mean).toBe(0);
  });

  it("leaves failed repeats out of the statistics and says so", () => {
    const run = runOf(scenario, { failed: (id) => id === "py-threads.1x1cpu-w2.fib30.r2" });
    const row = run.rows[0]!;
    expect(row.repeats).toBe(2);
    expect(row.failedRepeats).toBe(1);
    expect(row.throughput.n).toBe(2);
    expect(row.notes.join()).toMatch(/1 repeat\(s\) failed: model did not verify/);
    expect(run.cells.find((c) => c.id === "py-threads.1x1cpu-w2.fib30.r2")!.status).toBe("failed");
  });

  it("counts repeats whose open load was not delivered", () => {
    const run = runOf(scenario, { dropped: (id, g) => (g === "main" && id.endsWith("r3") ? 5 : 0) });
    expect(run.rows[0]!.loadNotDeliveredRepeats).toBe(1);
    expect(run.rows[0]!.dropped).toBe(10); // 2 clients x 5
    expect(run.rows[4]!.loadNotDeliveredRepeats).toBe(0); // closed model
  });

  it("is valid against its own schema after a trip through JSON", () => {
    const run = runOf(scenario);
    expect(RunSummarySchema.parse(JSON.parse(JSON.stringify(run)))).toEqual(run);
  });
});
