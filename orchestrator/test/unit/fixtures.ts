import { summariseCell } from "../../src/measure/cell-summary.js";
import type { ClientResult } from "../../../loadtests/contract/result.js";
import type { ContainerStats } from "../../src/measure/container-stats.js";
import { encode, newHistogram } from "../../src/measure/histogram.js";
import { summariseRun, type RunSummary } from "../../src/measure/run-summary.js";
import { expandScenario, mulberry32 } from "../../src/scenario/expand.js";
import { validateScenario, type ScenarioContext } from "../../src/scenario/load.js";
import type { Scenario } from "../../src/scenario/schema.js";

/** Shared builders for the unit tests. */

export const ctx: ScenarioContext = {
  knownModels: ["py-threads", "py-sync", "gunicorn-sync", "node-cluster"],
  modelProtocols: {
    "py-threads": ["tcp", "http"],
    "py-sync": ["tcp", "http"],
    "gunicorn-sync": ["http"],
    "node-cluster": ["tcp", "http"],
  },
};

/** A valid scenario as a plain object; tests mutate copies of it. */
export function validRaw(): Record<string, unknown> {
  return {
    name: "demo",
    description: "two models, two topologies",
    models: ["py-threads", "gunicorn-sync"],
    topologies: [
      { replicas: 1, cpus: 1, workers: 2 },
      { replicas: 2, cpus: 0.5 },
    ],
    workloads: [
      {
        name: "fib30",
        duration: "20s",
        warmup: "5s",
        groups: [
          { name: "main", protocol: "http", tool: "k6", load: { model: "open", rate: 50 }, request: "fib 30", clients: { count: 2 } },
          {
            name: "probe",
            protocol: "http",
            tool: "autocannon",
            load: { model: "closed", connections: 4 },
            request: [
              { request: "fib 1", weight: 3 },
              { request: "sleep 50", weight: 1 },
            ],
          },
        ],
      },
    ],
    repeat: 3,
    seed: 42,
  };
}

export function validScenario(mutate?: (raw: Record<string, any>) => void): Scenario {
  const raw = validRaw();
  mutate?.(raw);
  return validateScenario(raw, ctx);
}

/** An encoded histogram of these latencies (microseconds). */
export function histogramOf(valuesUs: readonly number[]): string {
  const h = newHistogram();
  for (const v of valuesUs) h.recordValue(v);
  return encode(h);
}

export function clientResult(over: Partial<ClientResult> & { latenciesUs?: number[] } = {}): ClientResult {
  const { latenciesUs, ...rest } = over;
  const lat = latenciesUs ?? Array.from({ length: 100 }, (_, i) => 1000 + i * 10);
  return {
    tool: "k6",
    loadModel: "open",
    group: "main",
    clientIndex: 0,
    startedAt: 1_000_000,
    endedAt: 1_020_000,
    requests: { sent: lat.length, completed: lat.length, ok: lat.length },
    errors: {},
    dropped: 0,
    histogram: histogramOf(lat),
    workers: {},
    notes: [],
    ...rest,
  };
}

/** Deterministic pseudo-random numbers for sample generation: the generator of the cell order. */
export const rng = mulberry32;

/**
 * A finished run built through the real pipeline (expand -> summariseCell -> summariseRun):
 * every client of every group sends `okPerClient(cell, group)` replies at `latencyUs(cell)` in a 20 s window.
 */
export function runOf(
  scenario: Scenario,
  opts: {
    okPerClient?: (cellId: string, group: string) => number;
    latencyUs?: (cellId: string, group: string) => number;
    failed?: (cellId: string) => boolean;
    dropped?: (cellId: string, group: string) => number;
  } = {},
): RunSummary {
  const T0 = 1_700_000_000_000;
  const { cells } = expandScenario(scenario);
  const summaries = cells.map((cell) => {
    if (opts.failed?.(cell.id)) {
      return summariseCell({ cell, results: [], status: "failed", error: "model did not verify" });
    }
    const results = cell.workload.groups.flatMap((g) =>
      Array.from({ length: g.clients.count }, (_, clientIndex) => {
        const ok = opts.okPerClient?.(cell.id, g.name) ?? 1000;
        const lat = opts.latencyUs?.(cell.id, g.name) ?? 2000;
        return clientResult({
          group: g.name,
          clientIndex,
          tool: g.tool,
          loadModel: g.load.model,
          startedAt: T0,
          endedAt: T0 + 20_000,
          requests: { sent: ok, completed: ok, ok },
          dropped: opts.dropped?.(cell.id, g.name) ?? 0,
          latenciesUs: Array.from({ length: ok }, (_, i) => lat + (i % 10)),
          workers: { [`${cell.model}-1/1`]: ok / 2, [`${cell.model}-1/2`]: ok / 2 },
          notes: g.tool === "autocannon" ? ["autocannon: 1 ms resolution"] : [],
        });
      }),
    );
    const containers: ContainerStats[] = [
      { name: "m", role: "model", cpuSeconds: 16, throttledPeriods: 10, totalPeriods: 200, throttledSeconds: 0.5, memoryPeakBytes: 80e6, restarts: 0 },
    ];
    return summariseCell({ cell, results, containers, containersWindowMs: 20_000 });
  });
  return summariseRun({
    runId: "20261125T181500Z-demo",
    scenario,
    seed: 42,
    startedAt: "2026-11-25T18:15:00.000Z",
    finishedAt: "2026-11-25T18:45:00.000Z",
    environment: { host: "lab-host", kernel: "6.12.0", cores: 2, dockerVersion: "28.0.1", gitCommit: "abc1234" },
    cells: summaries,
  });
}
