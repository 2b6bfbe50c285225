import type { ClientResult } from "../../src/measure/client-result.js";
import { encode, newHistogram } from "../../src/measure/histogram.js";
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

/** Deterministic pseudo-random numbers for sample generation. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
