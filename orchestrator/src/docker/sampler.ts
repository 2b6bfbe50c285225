import { readdir, readFile } from "node:fs/promises";
import os from "node:os";
import type Docker from "dockerode";
import type { ContainerStats } from "../measure/container-stats.js";
import type { CellMemory } from "../measure/memory.js";
import { busyCoresBetween, hostUsage, parseProcStat, type CpuTimes, type HostUsage } from "../measure/host-usage.js";
import type { ContainerSample, ContainerSeries, ReplicaTick } from "../measure/timeseries.js";
import { docker } from "./client.js";
import { LABEL, roleOf, type Role } from "./labels.js";
import { readCellMemory } from "./procs.js";

interface Snapshot {
  /** The engine's own timestamp of the sample, epoch ms. */
  readAt: number;
  cpuNs: number;
  periods: number;
  throttledPeriods: number;
  throttledNs: number;
  memory: number;
  memoryMax: number;
  pids: number | null;
}

interface Target {
  id: string;
  name: string;
  role: Role;
  group?: string;
  clientIndex?: number;
  /** Creation time, epoch ms, when the listing gave it. */
  createdAt?: number;
}

/** A container's counters over the window: the sum of the differences between its samples. */
interface Tally {
  firstAt: number;
  lastAt: number;
  prev: Snapshot | undefined;
  cpuNs: number;
  periods: number;
  throttledPeriods: number;
  throttledNs: number;
  peak: number;
  restarts: number | null;
  samples: ContainerSample[];
}

async function snapshot(c: Docker.Container): Promise<Snapshot | undefined> {
  try {
    // one-shot: the engine answers at once instead of waiting a second for a second sample.
    const s = await c.stats({ stream: false, "one-shot": true });
    // A container that has exited answers with zeroed counters and a zero timestamp: no sample.
    const readAt = Date.parse(s.read);
    if (!(readAt > 0) || !s.cpu_stats?.cpu_usage?.total_usage) return undefined;
    const mem = s.memory_stats as Docker.ContainerStats["memory_stats"] & { max_usage?: number };
    const pids = (s as { pids_stats?: { current?: number } }).pids_stats?.current;
    return {
      readAt,
      cpuNs: s.cpu_stats.cpu_usage.total_usage,
      periods: s.cpu_stats.throttling_data?.periods ?? 0,
      throttledPeriods: s.cpu_stats.throttling_data?.throttled_periods ?? 0,
      throttledNs: s.cpu_stats.throttling_data?.throttled_time ?? 0,
      memory: mem.usage ?? 0,
      memoryMax: mem.max_usage ?? 0,
      pids: typeof pids === "number" ? pids : null,
    };
  } catch {
    return undefined; // the container went away; reported with what we have
  }
}

/** The engine's own processes: the stats this sampler asks for cost CPU there, on the run's behalf. */
const ENGINE_PROCESSES = new Set(["dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2"]);
/** USER_HZ: clock ticks per second in /proc/<pid>/stat on Linux (100 on every architecture the lab runs on). */
const CLOCK_TICKS = 100;

/** CPU seconds the engine's processes have used so far (0 where /proc cannot be read). */
async function engineCpuSeconds(): Promise<number> {
  let ticks = 0;
  const pids = await readdir("/proc").catch(() => [] as string[]);
  await Promise.all(
    pids
      .filter((p) => /^\d+$/.test(p))
      .map(async (pid) => {
        const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
        const open = stat.indexOf("(");
        const close = stat.lastIndexOf(")");
        if (open < 0 || close < 0 || !ENGINE_PROCESSES.has(stat.slice(open + 1, close))) return;
        // Fields after the name: state is 3rd overall; utime and stime are the 14th and 15th.
        const fields = stat.slice(close + 2).split(" ");
        ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
      }),
  );
  return ticks / CLOCK_TICKS;
}

async function readHostTimes(): Promise<CpuTimes | undefined> {
  try {
    return parseProcStat(await readFile("/proc/stat", "utf8"));
  } catch {
    return undefined; // not Linux: no host figure
  }
}

export interface SampledWindow {
  containers: ContainerStats[];
  /** The sampler's window, ms (its own clock; each container also carries the engine's). */
  windowMs: number;
  host?: HostUsage;
  /** Every container seen during the window (replicas that appeared included), sample by sample. */
  series: ContainerSeries[];
  /** At each tick, the model containers running and healthy (from the listing). */
  replicas: ReplicaTick[];
  /** The model containers' memory (PSS per process, cgroup) read once, at the window's end. */
  memory?: CellMemory;
}

function targetOf(c: Docker.ContainerInfo): Target | undefined {
  const role = roleOf(c.Labels);
  if (!role) return undefined;
  const index = c.Labels[LABEL.clientIndex];
  return {
    id: c.Id,
    name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
    role,
    ...(c.Labels[LABEL.group] !== undefined ? { group: c.Labels[LABEL.group] } : {}),
    ...(index !== undefined ? { clientIndex: Number(index) } : {}),
    ...(c.Created > 0 ? { createdAt: c.Created * 1000 } : {}),
  };
}

/** Counter b minus a; a counter that went back (a restart makes a new cgroup) counts from zero. */
const delta = (b: number, a: number) => (b >= a ? b - a : b);

/**
 * The engine a sampler reads, and what else it may read: this machine's CPU (/proc/stat) and the
 * model's memory per process (/proc of the host's pids) only make sense where that engine runs
 * its containers on this machine's kernel and pid namespace.
 */
export interface SamplerSource {
  docker: Docker;
  /** Read this machine's CPU over the window (host usage, the "machine busy" flag). */
  host: boolean;
  /** Read the model containers' memory per process at the window's end. */
  memory: boolean;
}

const LOCAL: SamplerSource = { docker, host: true, memory: true };

/** Re-read restart counts every this many ticks (and whenever a container looks restarted). */
const INSPECT_EVERY = 3;

/**
 * Samples containers through a load window, about once a second (one-shot stats):
 *
 * - window totals per container: counters (CPU, CFS periods, throttled time) as the sum of the
 *   differences between consecutive samples (a counter that falls back to zero, a restart, counts
 *   from zero), memory as the highest seen (cgroup v1 also reports its own peak, max_usage);
 * - a per-sample series per container (CPU and periods since the previous sample, memory,
 *   processes and threads, restart count), for the cell's time series;
 * - the cell's containers re-listed by label at every tick, so a replica that a scale event
 *   starts, or one that replaces a removed replica, is sampled from when it appears (its counters
 *   from zero when it was created inside the window), and the model containers running and
 *   healthy are counted tick by tick;
 * - the host's /proc/stat and the orchestrator's own CPU, so CPU used elsewhere shows;
 * - at stop, once, the model containers' memory per process (PSS from smaps_rollup, docker/procs.ts).
 */
export class ContainerSampler {
  private readonly targets = new Map<string, Target>();
  private readonly tallies = new Map<string, Tally>();
  private readonly ticks: ReplicaTick[] = [];
  private tickCount = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private hostFrom?: { times: CpuTimes; at: number; self: NodeJS.CpuUsage; engine: number };

  constructor(
    targets: Target[],
    /** A label filter to re-list the containers by at every tick; without it, the targets are fixed. */
    private readonly label?: string,
    private readonly intervalMs = 1000,
    private readonly source: SamplerSource = LOCAL,
  ) {
    for (const t of targets) this.targets.set(t.id, t);
  }

  /** Every container with the label, by role (those without a lab role are left out), re-listed at every tick. */
  static async forLabel(label: string, source: SamplerSource = LOCAL): Promise<ContainerSampler> {
    const list = await source.docker.listContainers({ filters: { label: [label] } });
    return new ContainerSampler(
      list.flatMap((c) => targetOf(c) ?? []),
      label,
      1000,
      source,
    );
  }

  /** The listing: new containers become targets; returns each container's state, or undefined without a label. */
  private async relist(): Promise<Map<string, Docker.ContainerInfo> | undefined> {
    if (!this.label) return undefined;
    const list = await this.source.docker.listContainers({ all: true, filters: { label: [this.label] } }).catch(() => undefined);
    if (!list) return undefined;
    const byId = new Map(list.map((c) => [c.Id, c]));
    for (const c of list) {
      const t = this.targets.has(c.Id) ? undefined : targetOf(c);
      if (t && c.State === "running") this.targets.set(t.id, t);
    }
    return byId;
  }

  private tally(t: Target, first: Snapshot): Tally {
    let tally = this.tallies.get(t.id);
    if (!tally) {
      // A container created inside the window: everything it used, it used in the window.
      const born = t.createdAt !== undefined && this.startedAt > 0 && t.createdAt > this.startedAt;
      const zero: Snapshot = { ...first, cpuNs: 0, periods: 0, throttledPeriods: 0, throttledNs: 0 };
      const prev = born ? { ...zero, readAt: t.createdAt ?? first.readAt } : undefined;
      tally = {
        firstAt: prev?.readAt ?? first.readAt,
        lastAt: first.readAt,
        prev,
        cpuNs: 0,
        periods: 0,
        throttledPeriods: 0,
        throttledNs: 0,
        peak: 0,
        restarts: null,
        samples: [],
      };
      this.tallies.set(t.id, tally);
    }
    return tally;
  }

  private record(t: Target, s: Snapshot): boolean {
    const tally = this.tally(t, s);
    const prev = tally.prev;
    const d = prev
      ? {
          cpuNs: delta(s.cpuNs, prev.cpuNs),
          periods: delta(s.periods, prev.periods),
          throttledPeriods: delta(s.throttledPeriods, prev.throttledPeriods),
          throttledNs: delta(s.throttledNs, prev.throttledNs),
        }
      : { cpuNs: 0, periods: 0, throttledPeriods: 0, throttledNs: 0 };
    tally.cpuNs += d.cpuNs;
    tally.periods += d.periods;
    tally.throttledPeriods += d.throttledPeriods;
    tally.throttledNs += d.throttledNs;
    tally.peak = Math.max(tally.peak, s.memory, s.memoryMax);
    tally.lastAt = s.readAt;
    tally.prev = s;
    tally.samples.push({
      t: s.readAt,
      running: true,
      dtMs: prev ? Math.max(0, s.readAt - prev.readAt) : 0,
      cpuSeconds: d.cpuNs / 1e9,
      periods: d.periods,
      throttledPeriods: d.throttledPeriods,
      memoryBytes: s.memory,
      pids: s.pids,
      restarts: tally.restarts,
    });
    // A counter that went back: the container restarted since the previous sample.
    return prev !== undefined && s.cpuNs < prev.cpuNs;
  }

  private async inspectRestarts(t: Target): Promise<void> {
    const info = await this.source.docker
      .getContainer(t.id)
      .inspect()
      .catch(() => undefined);
    const tally = this.tallies.get(t.id);
    const last = tally?.samples.at(-1);
    if (!info || !tally) return;
    tally.restarts = info.RestartCount;
    if (last) last.restarts = info.RestartCount;
  }

  private async sampleOne(t: Target, state: Docker.ContainerInfo | undefined, inspectNow: boolean): Promise<void> {
    const running = state === undefined ? undefined : state.State === "running";
    const s = running === false ? undefined : await snapshot(this.source.docker.getContainer(t.id));
    if (!s) {
      const tally = this.tallies.get(t.id);
      tally?.samples.push({
        t: Date.now(),
        running: false,
        dtMs: 0,
        cpuSeconds: 0,
        periods: 0,
        throttledPeriods: 0,
        memoryBytes: 0,
        pids: null,
        restarts: tally.restarts,
      });
      return;
    }
    const restarted = this.record(t, s);
    const looksRestarted = restarted || state?.State === "restarting" || this.tallies.get(t.id)?.restarts === null;
    if (t.role === "model" && (inspectNow || looksRestarted)) await this.inspectRestarts(t);
  }

  private async sampleAll(): Promise<void> {
    const states = await this.relist();
    const inspectNow = this.tickCount++ % INSPECT_EVERY === 0;
    await Promise.all([...this.targets.values()].map((t) => this.sampleOne(t, states?.get(t.id), inspectNow)));
    if (states) {
      const models = [...states.values()].filter((c) => roleOf(c.Labels) === "model" && c.State === "running");
      this.ticks.push({ t: Date.now(), running: models.length, healthy: models.filter((c) => /\(healthy\)/.test(c.Status)).length });
    }
  }

  async start(): Promise<void> {
    const times = this.source.host ? await readHostTimes() : undefined;
    this.startedAt = Date.now();
    if (times) this.hostFrom = { times, at: this.startedAt, self: process.cpuUsage(), engine: await engineCpuSeconds() };
    await this.sampleAll();
    this.timer = setInterval(() => {
      this.inFlight ??= this.sampleAll().finally(() => (this.inFlight = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<SampledWindow> {
    clearInterval(this.timer);
    await this.inFlight;
    // Memory once, beside the last sample: the window's end, with the load still on.
    const [memory] = await Promise.all([this.readModelMemory(), this.sampleAll()]);
    const hostTo = this.hostFrom ? await readHostTimes() : undefined;
    const engineTo = this.hostFrom ? await engineCpuSeconds() : 0;
    const endedAt = Date.now();
    const targets = [...this.targets.values()];
    const containers = await Promise.all(targets.map((t) => this.statsOf(t)));
    const windowMs = endedAt - (this.hostFrom?.at ?? this.startedAt);
    let host: HostUsage | undefined;
    if (this.hostFrom && hostTo) {
      const self = process.cpuUsage(this.hostFrom.self);
      const cores = os.availableParallelism();
      host = hostUsage({
        windowMs,
        cores,
        busyCores: busyCoresBetween(this.hostFrom.times, hostTo, cores),
        cellCpuSeconds: containers.reduce((a, c) => a + c.cpuSeconds, 0),
        orchestratorCpuSeconds: (self.user + self.system) / 1e6,
        engineCpuSeconds: Math.max(0, engineTo - this.hostFrom.engine),
      });
    }
    const series = targets.map((t): ContainerSeries => ({
      id: t.id,
      name: t.name,
      role: t.role,
      ...(t.group !== undefined ? { group: t.group } : {}),
      ...(t.clientIndex !== undefined ? { clientIndex: t.clientIndex } : {}),
      samples: this.tallies.get(t.id)?.samples ?? [],
    }));
    return { containers, windowMs, ...(host ? { host } : {}), series, replicas: [...this.ticks], ...(memory ? { memory } : {}) };
  }

  /** The model containers' memory; undefined when there are none, or /proc could not be read. */
  private async readModelMemory(): Promise<CellMemory | undefined> {
    const models = [...this.targets.values()].filter((t) => t.role === "model");
    if (models.length === 0 || !this.source.memory) return undefined;
    return readCellMemory(models).catch(() => undefined);
  }

  private async statsOf(t: Target): Promise<ContainerStats> {
    const tally = this.tallies.get(t.id);
    const info = await this.source.docker
      .getContainer(t.id)
      .inspect()
      .catch(() => undefined);
    const nanoCpus = info?.HostConfig.NanoCpus ?? 0;
    return {
      name: t.name,
      role: t.role,
      ...(t.group !== undefined ? { group: t.group } : {}),
      ...(t.clientIndex !== undefined ? { clientIndex: t.clientIndex } : {}),
      cpuLimit: nanoCpus > 0 ? nanoCpus / 1e9 : null,
      sampledSeconds: tally ? Math.max(0, (tally.lastAt - tally.firstAt) / 1000) : 0,
      cpuSeconds: (tally?.cpuNs ?? 0) / 1e9,
      totalPeriods: tally?.periods ?? 0,
      throttledPeriods: tally?.throttledPeriods ?? 0,
      throttledSeconds: (tally?.throttledNs ?? 0) / 1e9,
      memoryPeakBytes: tally?.peak ?? 0,
      restarts: info?.RestartCount ?? tally?.restarts ?? 0,
    };
  }
}
