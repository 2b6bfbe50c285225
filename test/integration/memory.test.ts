import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CellSummarySchema, type CellSummary } from "../../orchestrator/src/measure/cell-summary.js";
import { RunSummarySchema, type RunSummary } from "../../orchestrator/src/measure/run-summary.js";
import { runLabel } from "../../orchestrator/src/docker/sweep.js";
import { runScenario } from "../../orchestrator/src/run/runner.js";
import { labelled } from "../support/deploy.js";

// Memory per topology and the work-spread chart, from one small real run: gunicorn-sync as a
// master over 2 workers in one container, py-sync as 2 one-process replicas, a few seconds of
// closed load each. The orchestrator reads every model process's smaps_rollup on the host.

const scenario = {
  name: "memory-pss",
  models: ["gunicorn-sync", "py-sync"],
  topologies: [
    { replicas: 1, cpus: 1, workers: 2, models: ["gunicorn-sync"] },
    { replicas: 2, cpus: 0.5, models: ["py-sync"] },
  ],
  workloads: [
    {
      name: "light",
      duration: "3s",
      warmup: "1s",
      groups: [
        {
          name: "main",
          protocol: "http",
          tool: "autocannon",
          load: { model: "closed", connections: 4 },
          request: "fib 15",
          clients: { count: 1, cpus: 0.5 },
        },
      ],
    },
  ],
};

let dir = "";
let runId = "";
let runDir = "";
let summary: RunSummary;
const cells = new Map<string, CellSummary>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "fiblab-memory-"));
  const file = path.join(dir, "memory.yaml");
  await writeFile(file, YAML.stringify(scenario));
  const out = await runScenario(file, { resultsDir: path.join(dir, "results") });
  expect(out.status).toBe("complete");
  runId = out.runId;
  runDir = out.dir;
  summary = RunSummarySchema.parse(JSON.parse(await readFile(path.join(runDir, "summary.json"), "utf8")));
  for (const c of summary.cells) {
    const cell = CellSummarySchema.parse(JSON.parse(await readFile(path.join(runDir, "cells", c.id, "summary.json"), "utf8")));
    cells.set(cell.model, cell);
  }
});

afterAll(async () => {
  if (runId) expect(await labelled(runLabel(runId))).toBe(0);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("memory (PSS) per topology, real containers", () => {
  it("gunicorn-sync 1 × 2 workers: PSS of the master and both workers, summed under their RSS", () => {
    const cell = cells.get("gunicorn-sync")!;
    expect(cell.status, cell.error).toBe("ok");
    const m = cell.memory!;
    expect(m, JSON.stringify(cell.notes)).not.toBeNull();
    expect(m.perContainer).toHaveLength(1);
    expect(m.processes).toBe(3); // the arbiter and 2 workers
    expect(m.unreadable).toBe(0);
    for (const p of m.perContainer[0]!.perProcess) expect(p.pssBytes).toBeGreaterThan(0);
    expect(m.pssBytes).toBeGreaterThan(0);
    expect(m.pssBytes).toBeLessThanOrEqual(m.rssBytes);
    // The workers share the arbiter's copy-on-write pages, which RSS counts once per process.
    expect(m.sharedBytes).toBeGreaterThan(0);
    expect(m.pssBytes).toBeLessThan(m.rssBytes);
    expect(m.cgroupBytes).toBeGreaterThan(0);
  });

  it("py-sync 2 replicas: one process per container, each read", () => {
    const cell = cells.get("py-sync")!;
    expect(cell.status, cell.error).toBe("ok");
    const m = cell.memory!;
    expect(m.perContainer).toHaveLength(2);
    expect(m.perContainer.map((c) => c.processes)).toEqual([1, 1]);
    expect(m.unreadable).toBe(0);
    expect(m.pssBytes).toBeGreaterThan(0);
    expect(m.pssBytes).toBeLessThanOrEqual(m.rssBytes);
  });

  it("the run's rows carry the PSS sums, and the report shows them and the spread chart's data", async () => {
    for (const r of summary.rows) {
      expect(r.memory?.pssBytes.n, r.key).toBe(1);
      expect(r.memory!.pssBytes.mean).toBe(cells.get(r.model)!.memory!.pssBytes);
      const group = cells.get(r.model)!.groups[0]!;
      expect(
        r.spread,
        `${r.key}: ${JSON.stringify({ requests: group.requests, workers: group.workers, notes: group.notes })}`,
      ).toHaveLength(1);
      expect(r.evenness.byProcessMaxMean?.mean).toBeGreaterThanOrEqual(1);
    }
    const md = await readFile(path.join(runDir, "report.md"), "utf8");
    expect(md).toMatch(/\| PSS \d+(\.\d+)? · RSS [^|]* MiB, 3 proc \|/);
    const html = await readFile(path.join(runDir, "report.html"), "utf8");
    const json = /<script id="fiblab-spread" type="application\/json">(.*?)<\/script>/s.exec(html)?.[1];
    expect(json).toBeDefined();
    const charts = JSON.parse(json!) as { title: string; processes: { count: number }[]; replicas: { count: number }[] }[];
    const gunicorn = charts.find((c) => c.title.startsWith("gunicorn-sync"))!;
    expect(gunicorn.processes).toHaveLength(2); // the workers answer, the arbiter does not
    expect(gunicorn.processes.every((p) => p.count > 0)).toBe(true);
    const pySync = charts.find((c) => c.title.startsWith("py-sync"))!;
    expect(pySync.replicas).toHaveLength(2);
    expect(html).toMatch(/<canvas id="chart-0-spread-\d-proc">/);
  });
});
