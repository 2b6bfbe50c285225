import { expect } from "vitest";
import { summariseCell, type CellSummary } from "../../src/measure/cell-summary.js";
import type { ClientResult, Interval } from "../../../loadtests/contract/result.js";
import type { EventRecord } from "../../src/events/record.js";
import type { ContainerStats } from "../../src/measure/container-stats.js";
import { encode, newHistogram } from "../../src/measure/histogram.js";
import type { HostUsage } from "../../src/measure/host-usage.js";
import { cellMemory, containerMemory, type CellMemory } from "../../src/measure/memory.js";
import { summariseRun, type RunSummary } from "../../src/measure/run-summary.js";
import { mulberry32 } from "../../../loadtests/contract/random.js";
import { expandScenario, type Cell } from "../../src/scenario/expand.js";
import { ScenarioError, validateScenario, type ScenarioContext, type ScenarioProblem } from "../../src/scenario/load.js";
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
  // A made-up catalog: here py-threads takes WORKERS too, so the shared fixture's topology applies to both models.
  modelKnobs: {
    "py-threads": { knobs: { WORKERS: { default: 1, description: "workers" } } },
    "py-sync": { knobs: {} },
    "gunicorn-sync": { knobs: { WORKERS: { default: 2, description: "workers" } } },
    "node-cluster": { knobs: { WORKERS: { default: 2, description: "workers" } } },
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

/** The problems `validateScenario` reports for `raw`, which it must reject. */
export function rejectionOf(raw: Record<string, unknown>, context: ScenarioContext): ScenarioProblem[] {
  try {
    validateScenario(raw, context);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return [...(e as ScenarioError).problems];
  }
  throw new Error("expected the scenario to be rejected");
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

/** A host that was otherwise idle during a 20 s cell window, or one with `elsewhereCores` used elsewhere. */
export function hostOf(elsewhereCores = 0.02): HostUsage {
  return {
    windowMs: 20_000,
    cores: 2,
    busyCores: 1.25 + elsewhereCores,
    cellCores: 1.15,
    orchestratorCores: 0.05,
    engineCores: 0.05,
    elsewhereCores,
  };
}

export interface RunOptions {
  okPerClient?: (cellId: string, group: string) => number;
  latencyUs?: (cellId: string, group: string) => number;
  /** Every ok latency of one client (µs), instead of okPerClient x latencyUs. */
  latenciesUs?: (cellId: string, group: string, clientIndex: number) => number[] | undefined;
  failed?: (cellId: string) => boolean;
  dropped?: (cellId: string, group: string) => number;
  /** Cores each client of the group used (default 0.1, against the group's clients.cpus). */
  clientCores?: (cellId: string, group: string) => number;
  /** Share of CFS periods each client of the group was throttled in (default 0). */
  clientThrottled?: (cellId: string, group: string) => number;
  /** Cores used on the host outside the run in the cell's window (default 0.02, an idle host). */
  elsewhereCores?: (cellId: string) => number;
  /** Each send's lateness (µs) for one client, where the tool reports it. */
  sendLagUs?: (cellId: string, group: string, clientIndex: number) => number[] | undefined;
  /** Per-second figures of one client (its ok count is then their sum), see secondsOf. */
  intervals?: (cellId: string, group: string, clientIndex: number, t0: number) => Interval[] | undefined;
  /** The scripted events carried out in the cell. */
  events?: (cellId: string, t0: number) => EventRecord[] | undefined;
  /** The model's memory reading at the cell's window end. */
  memory?: (cellId: string) => CellMemory | undefined;
}

/**
 * One client's seconds from t0: `ok[i]` replies at `latencyUs` in second i, and `errors[i]` (by
 * kind) where given.
 */
export function secondsOf(
  t0: number,
  ok: readonly number[],
  latencyUs = 2000,
  errors: Record<number, Record<string, number>> = {},
): Interval[] {
  return ok.map((n, i) => ({ t: t0 + i * 1000, ok: n, errors: { ...errors[i] }, histogram: histogramOf(Array(n).fill(latencyUs)) }));
}

function clientContainers(cell: Cell, opts: RunOptions): ContainerStats[] {
  return cell.workload.groups.flatMap((g) =>
    Array.from({ length: g.clients.count }, (_, clientIndex): ContainerStats => {
      const throttled = Math.round(200 * (opts.clientThrottled?.(cell.id, g.name) ?? 0));
      return {
        name: `client-${g.name}-${clientIndex}`,
        role: "client",
        group: g.name,
        clientIndex,
        cpuLimit: g.clients.cpus,
        sampledSeconds: 20,
        cpuSeconds: 20 * (opts.clientCores?.(cell.id, g.name) ?? 0.1),
        throttledPeriods: throttled,
        totalPeriods: 200,
        throttledSeconds: throttled * 0.01,
        memoryPeakBytes: 30e6,
        restarts: 0,
      };
    }),
  );
}

/**
 * A finished run built through the real pipeline (expand -> summariseCell -> summariseRun):
 * every client of every group sends `okPerClient(cell, group)` replies at `latencyUs(cell)` in a 20 s window.
 */
export function runOf(scenario: Scenario, opts: RunOptions = {}): RunSummary {
  return summariseRun({
    runId: "20261125T181500Z-demo",
    scenario,
    seed: 42,
    startedAt: "2026-11-25T18:15:00.000Z",
    finishedAt: "2026-11-25T18:45:00.000Z",
    environment: {
      host: "lab-host",
      kernel: "6.12.0",
      cores: 2,
      dockerVersion: "28.0.1",
      cgroupVersion: "2",
      storageDriver: "overlay2",
      gitCommit: "abc1234",
    },
    cells: cellsOf(scenario, opts),
  });
}

/**
 * RunOptions.intervals for a container kill at 8 s: main's 2 clients at 10 req/s, client 0's
 * seconds empty from 8 s for 2 s (for good in r3), with resets and 5xx; the other groups give no
 * per-second figures.
 */
export function killedAt8s(cellId: string, group: string, clientIndex: number, t0: number): Interval[] | undefined {
  if (group !== "main") return undefined;
  const down = cellId.endsWith("r3") ? 12 : 2;
  const ok = Array.from({ length: 20 }, (_, i) => (clientIndex === 0 && i >= 8 && i < 8 + down ? 0 : 10));
  const errors: Record<number, Record<string, number>> = {};
  for (let i = 8; i < 8 + down; i++) if (clientIndex === 0) errors[i] = { reset: 4, http_5xx: 6 };
  return secondsOf(t0, ok, 2000, errors);
}

/** The cell summaries runOf summarises. */
export function cellsOf(scenario: Scenario, opts: RunOptions = {}): CellSummary[] {
  const T0 = 1_700_000_000_000;
  const { cells } = expandScenario(scenario);
  return cells.map((cell) => {
    if (opts.failed?.(cell.id)) {
      return summariseCell({ cell, results: [], status: "failed", error: "model did not verify" });
    }
    const results = cell.workload.groups.flatMap((g) =>
      Array.from({ length: g.clients.count }, (_, clientIndex) => {
        const lat = opts.latencyUs?.(cell.id, g.name) ?? 2000;
        const given = opts.latenciesUs?.(cell.id, g.name, clientIndex);
        const ok = given?.length ?? opts.okPerClient?.(cell.id, g.name) ?? 1000;
        const lag = opts.sendLagUs?.(cell.id, g.name, clientIndex);
        const intervals = opts.intervals?.(cell.id, g.name, clientIndex, T0);
        const client = { group: g.name, clientIndex, tool: g.tool, loadModel: g.load.model, startedAt: T0, endedAt: T0 + 20_000 };
        if (intervals) {
          const seconds = intervals.reduce((a, iv) => a + iv.ok, 0);
          const errors: Record<string, number> = {};
          for (const iv of intervals) for (const [k, v] of Object.entries(iv.errors)) errors[k] = (errors[k] ?? 0) + v;
          const failed = Object.values(errors).reduce((a, b) => a + b, 0);
          return clientResult({
            ...client,
            requests: { sent: seconds + failed, completed: seconds, ok: seconds },
            errors,
            latenciesUs: Array(seconds).fill(lat),
            intervals,
          });
        }
        return clientResult({
          ...client,
          requests: { sent: ok, completed: ok, ok },
          dropped: opts.dropped?.(cell.id, g.name) ?? 0,
          latenciesUs: given ?? Array.from({ length: ok }, (_, i) => lat + (i % 10)),
          ...(lag ? { sendLag: histogramOf(lag) } : {}),
          workers: { [`${cell.model}-1/1`]: ok / 2, [`${cell.model}-1/2`]: ok / 2 },
          notes: g.tool === "autocannon" ? ["autocannon: 1 ms resolution"] : [],
        });
      }),
    );
    const containers: ContainerStats[] = [
      {
        name: "m",
        role: "model",
        cpuSeconds: 16,
        throttledPeriods: 10,
        totalPeriods: 200,
        throttledSeconds: 0.5,
        memoryPeakBytes: 80e6,
        restarts: 0,
      },
      ...clientContainers(cell, opts),
    ];
    const host = hostOf(opts.elsewhereCores?.(cell.id) ?? 0.02);
    const events = opts.events?.(cell.id, T0);
    const memory = opts.memory?.(cell.id);
    return summariseCell({
      cell,
      results,
      containers,
      containersWindowMs: 20_000,
      host,
      ...(events ? { events } : {}),
      ...(memory ? { memory } : {}),
    });
  });
}

/** The demo scenario with two repeats. */
export const twoRepeats = validScenario((raw) => {
  raw.repeat = 2;
});

/**
 * One client's latencies (µs) in two repeats that differ: r1 all ~2 ms; in r2 2% take 100 ms, so
 * r2's own p99 is 100 ms while the p99 of both repeats together is ~2 ms (1% slow). A mean of the
 * repeats' p99s (~51 ms) is far from both: a test that sees it knows a mean came back.
 */
export function differingRepeats(cellId: string): number[] {
  const slow = cellId.endsWith("r2") ? 20 : 0;
  return Array.from({ length: 1000 }, (_, i) => (i < slow ? 100_000 : 2000 + (i % 10)));
}

/** A memory reading: one container per entry, each process's PSS and RSS in kB. */
export function memoryOf(containers: readonly { pss: number; rss: number }[][], cgroupBytes: number | null = 64 * 2 ** 20): CellMemory {
  let pid = 100;
  return cellMemory(
    containers.map((procs, i) =>
      containerMemory(
        `m-${i + 1}`,
        procs.map((p) => ({ pid: pid++, text: `Rss: ${p.rss} kB\nPss: ${p.pss} kB\n` })),
        cgroupBytes,
      ),
    ),
    1_700_000_030_000,
  );
}
