import { randomInt } from "node:crypto";
import { mulberry32 } from "../../../loadtests/contract/random.js";
import type { Scenario, Topology, Workload } from "./schema.js";

/** One measurement: a model in a topology under a workload, one repeat. */
export interface Cell {
  /** Stable across runs and orders: "py-threads.1x1cpu-w2.fib30.r1". */
  id: string;
  /** The id without the repeat: the key repeats are aggregated under. */
  key: string;
  /** Position in the run order, from 0. */
  order: number;
  model: string;
  topology: Topology;
  workload: Workload;
  /** From 1. */
  repeat: number;
}

export interface Expansion {
  /** The seed that produced the order (the scenario's, the caller's, or a fresh random one). */
  seed: number;
  /** In run order. */
  cells: Cell[];
}

export function cellKey(model: string, topologyId: string, workload: string): string {
  return `${model}.${topologyId}.${workload}`;
}

export function cellId(key: string, repeat: number): string {
  return `${key}.r${repeat}`;
}

/** Fisher-Yates on a copy. */
export function shuffle<T>(items: readonly T[], rng: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export function randomSeed(): number {
  return randomInt(0, 2 ** 31 - 1);
}

/**
 * model x topology x workload x repeat, in a random order so that drift of the host (thermal,
 * noisy neighbours) spreads over all cells instead of biasing the ones that ran last.
 */
export function expandScenario(scenario: Scenario, opts: { seed?: number } = {}): Expansion {
  const seed = opts.seed ?? scenario.seed ?? randomSeed();
  const cells: Omit<Cell, "order">[] = [];
  for (const model of scenario.models) {
    for (const topology of scenario.topologies) {
      if (topology.models && !topology.models.includes(model)) continue;
      for (const workload of scenario.workloads) {
        const key = cellKey(model, topology.id, workload.name);
        for (let repeat = 1; repeat <= scenario.repeat; repeat++) {
          cells.push({ id: cellId(key, repeat), key, model, topology, workload, repeat });
        }
      }
    }
  }
  return { seed, cells: shuffle(cells, mulberry32(seed)).map((c, order) => ({ ...c, order })) };
}
