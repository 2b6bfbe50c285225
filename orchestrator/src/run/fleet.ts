import type { CellInput } from "../measure/cell-summary.js";
import type { ClientResult } from "../../../loadtests/contract/result.js";
import type { Deployment } from "../docker/compose.js";
import type { EventRecord } from "../events/record.js";
import type { Manifest } from "../models/manifest.js";
import { scheduleEvents, type ScheduledEvents } from "./events.js";
import { LABEL, labelFilter } from "../docker/labels.js";
import type { SampledWindow } from "../docker/sampler.js";
import type { Engine, EngineFleetOutcome, Placement, WindowSampler } from "../engine/index.js";
import { absoluteLoad } from "../measure/limits.js";
import type { ContainerStats } from "../measure/container-stats.js";
import type { HostUsage } from "../measure/host-usage.js";
import type { CellMemory } from "../measure/memory.js";
import type { ContainerSeries, ReplicaTick } from "../measure/timeseries.js";
import type { Cell } from "../scenario/expand.js";

export interface CellFleetInput {
  /** Where the clients run and the containers are sampled (engine/). */
  engine: Engine;
  cell: Cell;
  runId: string;
  network: string;
  outDir: string;
  labels: Record<string, string>;
  seed: number;
  /** The deployment and its model's manifest, for the workload's scripted events (run/events.ts). */
  deployment?: Deployment;
  manifest?: Manifest;
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
  host?: HostUsage;
  /** Per-container samples and live replicas over the window, for the cell's time series. */
  containerSeries: ContainerSeries[];
  replicaTicks: ReplicaTick[];
  /** The model containers' memory at the window's end (PSS per process, cgroup). */
  memory?: CellMemory;
  errors: string[];
  /** The workload's scripted events as carried out, in their order. */
  events: EventRecord[];
  /** Where each client ran. */
  placements: Placement[];
}

/**
 * Samples a cell's containers over exactly the fleet's measurement phase: started when the
 * phase begins, stopped when it ends (or when the fleet ends early).
 */
class WindowSampling {
  private pending: Promise<WindowSampler> | undefined;
  private stopping: Promise<void> | undefined;
  result: SampledWindow | undefined;

  constructor(
    private readonly engine: Engine,
    private readonly label: string,
  ) {}

  start(): void {
    this.pending = this.engine.sampler(this.label).then(async (s) => {
      await s.start();
      return s;
    });
    // Read at stop; until then a sampler that cannot start (an engine gone) must not be an
    // unhandled rejection, which ends the process before the run can sweep up after itself.
    this.pending.catch(() => undefined);
  }

  /**
   * Stopped at the window's end and again when the fleet is over: the second call waits for the
   * first, or a fleet whose clients exit quickly (tcp) would be read before its sampler stopped.
   */
  stop(): Promise<void> {
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    const sampler = await this.pending?.catch(() => undefined);
    if (sampler) this.result = await sampler.stop();
  }
}

/**
 * The workload's scripted events, started when the measurement phase begins (measurement start
 * = the common start + the warm-up, as the fleet planned it).
 */
class CellEvents {
  private scheduled: ScheduledEvents | undefined;
  private startAt: number | undefined;

  constructor(private readonly input: CellFleetInput) {}

  /** The fleet's "start" phase: the common start is durationMs ahead. */
  started(at: number, durationMs = 0): void {
    this.startAt = at + durationMs;
  }

  measure(at: number): void {
    const { cell, deployment, manifest } = this.input;
    if (!deployment || !manifest || cell.workload.events.length === 0 || this.scheduled) return;
    const measureStart = this.startAt !== undefined ? this.startAt + cell.workload.warmupMs : at;
    this.scheduled = scheduleEvents(
      {
        events: cell.workload.events,
        deployment,
        manifest,
        topology: cell.topology,
        labels: this.input.labels,
        durationMs: cell.workload.durationMs,
        onLog: (line) => this.input.onLog?.(line),
      },
      measureStart,
    );
  }

  /** Every record; cut short when the fleet ended early (an error or an interrupt). */
  async finish(early: boolean): Promise<EventRecord[]> {
    if (!this.scheduled) return [];
    if (early) this.scheduled.cancel("the load ended early");
    return this.scheduled.done;
  }
}

/**
 * One cell's load: launch the fleet, and over exactly its measurement phase sample every
 * container of the cell (model replicas, front, clients: a throttled client would distort
 * what it measured, so its CPU is reported too) and the host's CPU.
 */
export async function runCellFleet(input: CellFleetInput): Promise<CellFleetOutcome> {
  const sampling = new WindowSampling(input.engine, labelFilter(LABEL.cell, input.cell.id));
  // Live rate: the sum over clients of their latest per-second figure.
  const latest = new Map<string, number>();
  const { workload } = input.cell;
  const events = new CellEvents(input);
  let outcome: EngineFleetOutcome;
  let records: EventRecord[] = [];
  try {
    outcome = await input.engine.runFleet(
      {
        runId: input.runId,
        cellId: input.cell.id,
        network: input.network,
        outDir: input.outDir,
        groups: workload.groups.map((g) => ({ ...g, load: absoluteLoad(g.load) })),
        durationMs: workload.durationMs,
        warmupMs: workload.warmupMs,
        labels: input.labels,
        seed: input.seed,
      },
      {
        ...(input.signal ? { signal: input.signal } : {}),
        onLog: (source, line) => input.onLog?.(`${source}: ${line}`),
        onProgress: (p) => {
          latest.set(`${p.group}/${p.clientIndex}`, p.rps);
          input.onRate?.([...latest.values()].reduce((a, b) => a + b, 0));
        },
        onPhase: (phase, at, durationMs) => {
          if (phase === "start") events.started(at, durationMs);
          if (phase === "measure") events.measure(at);
          if (phase === "warmup") input.onPhase?.("warmup", durationMs);
          if (phase === "measure") {
            input.onPhase?.("load", durationMs);
            sampling.start();
          }
          if (phase === "drain") void sampling.stop();
        },
      },
    );
    records = await events.finish(false);
  } finally {
    await sampling.stop();
    // The fleet failed or was interrupted: stop the events too, then let the error go on.
    await events.finish(true).catch(() => undefined);
  }
  const sampled = sampling.result;
  return {
    results: outcome.clients.flatMap((c) => (c.result ? [c.result] : [])),
    containers: sampled?.containers ?? [],
    ...(sampled ? { windowMs: sampled.windowMs } : {}),
    ...(sampled?.host ? { host: sampled.host } : {}),
    containerSeries: sampled?.series ?? [],
    replicaTicks: sampled?.replicas ?? [],
    ...(sampled?.memory ? { memory: sampled.memory } : {}),
    errors: outcome.clients.flatMap((c) => (c.error ? [`${c.group}[${c.clientIndex}] (${c.tool}): ${c.error}`] : [])),
    events: records,
    placements: outcome.placements,
  };
}

/** What a fleet measured, as a cell summary takes it (measure/cell-summary.ts CellInput). */
export function measuredBy(fleet: CellFleetOutcome): Pick<CellInput, "results" | "containers" | "containersWindowMs" | "host"> {
  return {
    results: fleet.results,
    containers: fleet.containers,
    ...(fleet.windowMs !== undefined ? { containersWindowMs: fleet.windowMs } : {}),
    ...(fleet.host ? { host: fleet.host } : {}),
  };
}
