import { launchFleet, removeRunContainers } from "../fleet/launch.js";
import type { ClientResult } from "../../../loadtests/contract/result.js";
import { ContainerSampler } from "../measure/container-sampler.js";
import type { ContainerRole, ContainerStats } from "../measure/container-stats.js";
import type { Cell } from "../scenario/expand.js";

export interface CellFleetInput {
  cell: Cell;
  runId: string;
  network: string;
  outDir: string;
  labels: Record<string, string>;
  signal?: AbortSignal;
  onPhase?(phase: "warmup" | "load", durationMs?: number): void;
  onRate?(rps: number): void;
  onLog?(line: string): void;
}

export interface CellFleetOutcome {
  results: ClientResult[];
  containers: ContainerStats[];
  /** The sampled window (the measurement phase), ms. */
  windowMs?: number;
  errors: string[];
  notes: string[];
}

function roleOf(labels: Record<string, string>): ContainerRole | undefined {
  const role = labels["fiblab.role"];
  return role === "model" || role === "front" || role === "client" ? role : undefined;
}

/**
 * One cell's load: launch the fleet, and over exactly its measurement phase sample every
 * container of the cell (model replicas, front, clients: a throttled client would distort
 * what it measured, so its CPU is reported too).
 */
export async function runCellFleet(input: CellFleetInput): Promise<CellFleetOutcome> {
  const cellLabel = `fiblab.cell=${input.cell.id}`;
  let sampler: ContainerSampler | undefined;
  let sampling: Promise<void> | undefined;
  let sampledFrom = 0;
  let containers: ContainerStats[] = [];
  let windowMs: number | undefined;
  const stopSampling = async () => {
    const pending = sampling;
    sampling = undefined;
    await pending?.catch(() => undefined);
    const s = sampler;
    sampler = undefined;
    if (!s) return;
    containers = await s.stop();
    windowMs = Date.now() - sampledFrom;
  };
  // Live rate: the sum over clients of their latest per-second figure.
  const latest = new Map<string, number>();

  let outcome: Awaited<ReturnType<typeof launchFleet>>;
  try {
    outcome = await launchFleet(
    {
      runId: input.runId,
      cellId: input.cell.id,
      network: input.network,
      outDir: input.outDir,
      groups: input.cell.workload.groups,
      durationMs: input.cell.workload.durationMs,
      warmupMs: input.cell.workload.warmupMs,
      labels: input.labels,
    },
    {
      signal: input.signal,
      onLog: (source, line) => input.onLog?.(`${source}: ${line}`),
      onProgress: (p) => {
        latest.set(`${p.group}/${p.clientIndex}`, p.rps);
        input.onRate?.([...latest.values()].reduce((a, b) => a + b, 0));
      },
      onPhase: (phase, _at, durationMs) => {
        if (phase === "warmup") input.onPhase?.("warmup", durationMs);
        if (phase === "measure") {
          input.onPhase?.("load", durationMs);
          sampledFrom = Date.now();
          sampling = ContainerSampler.forLabel(cellLabel, roleOf).then((s) => {
            sampler = s;
            return s.start();
          });
        }
        if (phase === "drain") void stopSampling();
      },
    },
    );
  } finally {
    await stopSampling();
  }
  const results = outcome.clients.flatMap((c) => (c.result ? [c.result] : []));
  const errors = outcome.clients.flatMap((c) => (c.error ? [`${c.group}[${c.clientIndex}] (${c.tool}): ${c.error}`] : []));
  return { results, containers, ...(windowMs !== undefined ? { windowMs } : {}), errors, notes: [] };
}

/** Remove every load client a run started (the runner's safety net on interrupt). */
export async function sweepFleet(runId: string): Promise<void> {
  await removeRunContainers(runId).catch(() => undefined);
}
