import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { family, findingsCharts, logFloor, pairOrder, rowLabel } from "../../../src/findings/charts.js";
import { RunSummarySchema, type RowSummary, type RunSummary } from "../../../src/measure/run-summary.js";

const RUN = "20261127T063038Z-rel-check";
const fixture = (): RunSummary =>
  RunSummarySchema.parse(JSON.parse(readFileSync(path.join(import.meta.dirname, "fixture", "runs", RUN, "summary.json"), "utf8")));

function row(base: RowSummary, model: string, replicas: number, cpus: number, workers: number): RowSummary {
  const id = `${replicas}x${cpus}cpu-w${workers}`;
  return { ...base, model, key: `${model}.${id}.w.g`, cpuBudget: replicas * cpus, topology: { replicas, cpus, workers, id } };
}

describe("findings charts", () => {
  it("families pair a master with its one-process siblings; a framework model is its own family", () => {
    expect(["py-prefork", "py-sync", "node-cluster", "node-single", "gunicorn-sync", "uvicorn"].map(family)).toEqual([
      "py",
      "py",
      "node",
      "node",
      "gunicorn-sync",
      "uvicorn",
    ]);
  });

  it("rows sort by family, budget, replicas, model: a master's topology beside its replicas", () => {
    const base = fixture().rows[0]!;
    const rows = [
      row(base, "uvicorn", 2, 0.5, 1),
      row(base, "py-sync", 2, 0.5, 1),
      row(base, "gunicorn-sync", 2, 0.5, 1),
      row(base, "py-prefork", 1, 2, 2),
      row(base, "gunicorn-sync", 1, 1, 2),
      row(base, "py-prefork", 1, 1, 2),
      row(base, "uvicorn", 1, 1, 2),
    ];
    expect(rows.sort(pairOrder).map((r) => `${r.model} ${r.topology.id}`)).toEqual([
      "gunicorn-sync 1x1cpu-w2",
      "gunicorn-sync 2x0.5cpu-w1",
      "py-prefork 1x1cpu-w2",
      "py-sync 2x0.5cpu-w1",
      "py-prefork 1x2cpu-w2",
      "uvicorn 1x1cpu-w2",
      "uvicorn 2x0.5cpu-w1",
    ]);
  });

  it("a label names the row and, on a second line, what makes its figures doubtful", () => {
    const r = fixture().rows[0]!;
    expect(rowLabel({ ...r, machineBusyRepeats: 0 })).toBe("py-prefork · 1x1cpu-w2");
    expect(rowLabel({ ...r, noisy: true, clientBoundRepeats: 1, machineBusyRepeats: 1 })).toEqual([
      "py-prefork · 1x1cpu-w2",
      "(noisy, client-bound, machine busy)",
    ]);
  });

  it("log axes start at a power of ten half a decade under the smallest bar", () => {
    expect(logFloor([44.9, 2.507, null])).toBe(1);
    expect(logFloor([10.2, 60])).toBe(1);
    expect(logFloor([60, 300])).toBe(10);
    expect(logFloor([null])).toBeUndefined();
  });

  it("per workload and group: throughput with min–max, p50/p99, limit share, measured vs predicted p99", () => {
    const run = fixture();
    // Make the repeats differ, so the whisker is a real range.
    run.rows[0]!.throughput = { ...run.rows[0]!.throughput, n: 3, min: 150, max: 170 };
    run.rows[3]!.prediction = null;
    const charts = findingsCharts(run);
    expect(charts.map((c) => c.file)).toEqual([
      "fib22-80.fib22.throughput.png",
      "fib22-80.fib22.latency.png",
      "fib22-80.fib22.limit.png",
      "fib22-80.fib22.prediction.png",
      "mix-tcp.mix.throughput.png",
      "mix-tcp.mix.latency.png",
      "mix-tcp.mix.limit.png",
      "mix-tcp.mix.prediction.png",
    ]);
    const [tp, lat, limit, pred] = charts;
    expect(tp!.config.data.datasets.map((d) => d.data)).toEqual([
      [163.6, null],
      [null, 187.4],
      [
        [150, 170],
        [187.4, 187.4],
      ],
    ]);
    expect(tp!.config.options?.plugins?.subtitle?.text).toBe(
      `run ${RUN} · open, 80% of each shape's probed capacity · bars: mean of 1 repeat(s), black: min–max`,
    );
    expect(lat!.config.data.datasets.map((d) => d.data)).toEqual([
      [2.507, 70.719],
      [44.895, 549.887],
    ]);
    expect(lat!.config.options?.scales?.y).toMatchObject({ type: "logarithmic", min: 1 });
    expect(
      limit!.config.data.datasets
        .flatMap((d) => d.data)
        .filter((x) => x !== null)
        .map((x) => Math.round(x as number)),
    ).toEqual([29, 32]);
    expect(pred!.config.data.labels).toEqual([
      ["py-prefork · 1x1cpu-w2", "D/D/2"],
      ["py-prefork · 2x0p5cpu-w1", "2×D/D/1 round-robin"],
    ]);
    // The mix's second row lost its prediction: only the first is compared.
    expect(charts[7]!.config.data.datasets.map((d) => d.data)).toEqual([[61.503], [298.6231788541761]]);
    // Configurations cross into the page as JSON: nothing may be lost on the way.
    expect(JSON.parse(JSON.stringify(tp!.config))).toEqual(tp!.config);
  });

  it("no limit or prediction chart where no row has one", () => {
    const run = fixture();
    for (const r of run.rows) Object.assign(r, { limit: null, prediction: null });
    expect(findingsCharts(run).map((c) => c.file.split(".").slice(-2, -1)[0])).toEqual(["throughput", "latency", "throughput", "latency"]);
  });
});
