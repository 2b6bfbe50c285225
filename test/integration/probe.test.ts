import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProbeRecordSchema, type ProbeRecord } from "../../orchestrator/src/measure/limits.js";
import { RunSummarySchema, type RunSummary } from "../../orchestrator/src/measure/run-summary.js";
import { runLabel } from "../../orchestrator/src/docker/sweep.js";
import { runScenario } from "../../orchestrator/src/run/runner.js";
import { labelled } from "../support/deploy.js";

// Load relative to capacity, from one small real run: py-prefork as a master over 2 workers and
// as 2 one-process replicas, each probed (t(n) in its container, a closed saturation loop) and
// then loaded at 60% of its own probed throughput.

const scenario = {
  name: "probe-relative",
  models: ["py-prefork"],
  topologies: [
    { replicas: 1, cpus: 1, workers: 2 },
    { replicas: 2, cpus: 0.5, workers: 1 },
  ],
  probe: { duration: "3s", warmup: "1s", connections: 8 },
  workloads: [
    {
      name: "fib20-60pct",
      duration: "4s",
      warmup: "1s",
      groups: [
        {
          name: "main",
          protocol: "http",
          tool: "k6",
          load: { model: "open", rate: "60%" },
          request: "fib 20",
          clients: { count: 1, cpus: 0.5 },
        },
      ],
    },
  ],
};

let dir = "";
let runId = "";
let summary: RunSummary;
let probes: ProbeRecord[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "fiblab-probe-"));
  const file = path.join(dir, "probe.yaml");
  await writeFile(file, YAML.stringify(scenario));
  const out = await runScenario(file, { resultsDir: path.join(dir, "results") });
  expect(out.status).toBe("complete");
  runId = out.runId;
  summary = RunSummarySchema.parse(JSON.parse(await readFile(path.join(out.dir, "summary.json"), "utf8")));
  probes = ProbeRecordSchema.array().parse(JSON.parse(await readFile(path.join(out.dir, "probes.json"), "utf8")));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("a run with relative rates", () => {
  it("probes each model and topology once: t(20) in the container, and the saturation throughput", () => {
    expect(probes.map((p) => p.topology).sort()).toEqual(["1x1cpu-w2", "2x0p5cpu-w1"]);
    for (const p of probes) {
      expect(p.error, JSON.stringify(p)).toBeUndefined();
      const t = p.serviceTimes.find((s) => s.n === 20);
      // fib(20) is 6765 calls deep: well above a microsecond, well below a second on any CPU here
      expect(t?.cpuMs).toBeGreaterThan(0.05);
      expect(t?.cpuMs).toBeLessThan(100);
      expect(p.capacity).toHaveLength(1);
      expect(p.capacity[0]?.throughput).toBeGreaterThan(10);
    }
    expect(probes.find((p) => p.topology === "1x1cpu-w2")?.processesPerReplica).toBe(2);
    expect(probes.find((p) => p.topology === "2x0p5cpu-w1")?.replicas).toBe(2);
  });

  it("loads each shape at 60% of its own probed capacity, and keeps what the rate was resolved against", () => {
    expect(summary.rows).toHaveLength(2);
    for (const r of summary.rows) {
      const probe = probes.find((p) => p.topology === r.topology.id);
      const capacity = probe?.capacity[0]?.throughput ?? NaN;
      expect(r.relativeRate?.percent).toBe(60);
      expect(r.relativeRate?.capacity).toBe(capacity);
      expect(r.load.model === "open" ? r.load.rate : NaN).toBeCloseTo(0.6 * capacity, 6);
      // an open model at 60% of capacity delivers its rate
      expect(r.throughput.mean ?? 0).toBeGreaterThan(0.9 * 0.6 * capacity);
    }
  });

  it("shows each row's physical limit and the queueing model of its shape", () => {
    for (const r of summary.rows) {
      const t = probes.find((p) => p.topology === r.topology.id)?.serviceTimes.find((s) => s.n === 20);
      expect(r.limit?.cpuMsPerRequest).toBe(t?.cpuMs);
      expect(r.limit?.limitRps).toBeCloseTo((1 * 1000) / (t?.cpuMs ?? NaN), 6);
      expect(r.limit?.fraction).toBeGreaterThan(0);
      expect(r.limit?.fraction).toBeLessThan(1);
      expect(r.prediction?.offeredLoad).toBeCloseTo(0.6, 6);
    }
    expect(summary.rows.find((r) => r.topology.id === "1x1cpu-w2")?.prediction?.model).toBe("D/D/2");
    expect(summary.rows.find((r) => r.topology.id === "2x0p5cpu-w1")?.prediction?.model).toBe("2×D/D/1 round-robin");
  });

  it("leaves nothing behind", async () => {
    expect(await labelled(runLabel(runId))).toBe(0);
  });
});
