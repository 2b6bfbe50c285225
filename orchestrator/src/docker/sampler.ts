import { readFile } from "node:fs/promises";
import os from "node:os";
import type Docker from "dockerode";
import type { ContainerStats } from "../measure/container-stats.js";
import { busyCoresBetween, hostUsage, parseProcStat, type CpuTimes, type HostUsage } from "../measure/host-usage.js";
import { docker } from "./client.js";
import { LABEL, roleOf, type Role } from "./labels.js";

interface Snapshot {
  /** The engine's own timestamp of the sample, epoch ms. */
  readAt: number;
  cpuNs: number;
  periods: number;
  throttledPeriods: number;
  throttledNs: number;
  memory: number;
  memoryMax: number;
}

interface Target {
  id: string;
  name: string;
  role: Role;
  group?: string;
  clientIndex?: number;
}

async function snapshot(c: Docker.Container): Promise<Snapshot | undefined> {
  try {
    // one-shot: the engine answers at once instead of waiting a second for a second sample.
    const s = await c.stats({ stream: false, "one-shot": true });
    // A container that has exited answers with zeroed counters and a zero timestamp: no sample.
    const readAt = Date.parse(s.read);
    if (!(readAt > 0) || !s.cpu_stats?.cpu_usage?.total_usage) return undefined;
    const mem = s.memory_stats as Docker.ContainerStats["memory_stats"] & { max_usage?: number };
    return {
      readAt,
      cpuNs: s.cpu_stats.cpu_usage.total_usage,
      periods: s.cpu_stats.throttling_data?.periods ?? 0,
      throttledPeriods: s.cpu_stats.throttling_data?.throttled_periods ?? 0,
      throttledNs: s.cpu_stats.throttling_data?.throttled_time ?? 0,
      memory: mem.usage ?? 0,
      memoryMax: mem.max_usage ?? 0,
    };
  } catch {
    return undefined; // the container went away; reported with what we have
  }
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
}

/**
 * Samples containers through a load window: counters (CPU, CFS periods, throttled time) as the
 * difference between the window's first and last sample, memory as the highest seen (cgroup v1
 * also reports its own peak, max_usage, which covers moments between samples). Alongside, the
 * host's /proc/stat and the orchestrator's own CPU, so CPU used elsewhere on the machine shows.
 */
export class ContainerSampler {
  private first = new Map<string, Snapshot>();
  private last = new Map<string, Snapshot>();
  private peak = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private hostFrom?: { times: CpuTimes; at: number; self: NodeJS.CpuUsage };

  constructor(
    private readonly targets: Target[],
    private readonly intervalMs = 1000,
  ) {}

  /** Every running container with the label, by role (those without a lab role are left out). */
  static async forLabel(label: string): Promise<ContainerSampler> {
    const list = await docker.listContainers({ filters: { label: [label] } });
    const targets = list.flatMap((c): Target[] => {
      const role = roleOf(c.Labels);
      if (!role) return [];
      const index = c.Labels[LABEL.clientIndex];
      return [
        {
          id: c.Id,
          name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
          role,
          ...(c.Labels[LABEL.group] !== undefined ? { group: c.Labels[LABEL.group] } : {}),
          ...(index !== undefined ? { clientIndex: Number(index) } : {}),
        },
      ];
    });
    return new ContainerSampler(targets);
  }

  private async sampleAll(): Promise<void> {
    await Promise.all(
      this.targets.map(async (t) => {
        const s = await snapshot(docker.getContainer(t.id));
        if (!s) return;
        if (!this.first.has(t.id)) this.first.set(t.id, s);
        this.last.set(t.id, s);
        this.peak.set(t.id, Math.max(this.peak.get(t.id) ?? 0, s.memory, s.memoryMax));
      }),
    );
  }

  async start(): Promise<void> {
    const times = await readHostTimes();
    if (times) this.hostFrom = { times, at: Date.now(), self: process.cpuUsage() };
    await this.sampleAll();
    this.timer = setInterval(() => {
      this.inFlight ??= this.sampleAll().finally(() => (this.inFlight = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<SampledWindow> {
    clearInterval(this.timer);
    await this.inFlight;
    await this.sampleAll();
    const hostTo = await readHostTimes();
    const endedAt = Date.now();
    const containers = await Promise.all(this.targets.map((t) => this.statsOf(t)));
    const windowMs = this.hostFrom ? endedAt - this.hostFrom.at : 0;
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
      });
    }
    return { containers, windowMs, ...(host ? { host } : {}) };
  }

  private async statsOf(t: Target): Promise<ContainerStats> {
    const a = this.first.get(t.id);
    const b = this.last.get(t.id);
    const info = await docker.getContainer(t.id).inspect().catch(() => undefined);
    const nanoCpus = info?.HostConfig.NanoCpus ?? 0;
    const both = a !== undefined && b !== undefined;
    return {
      name: t.name,
      role: t.role,
      ...(t.group !== undefined ? { group: t.group } : {}),
      ...(t.clientIndex !== undefined ? { clientIndex: t.clientIndex } : {}),
      cpuLimit: nanoCpus > 0 ? nanoCpus / 1e9 : null,
      sampledSeconds: both ? Math.max(0, (b.readAt - a.readAt) / 1000) : 0,
      cpuSeconds: both ? (b.cpuNs - a.cpuNs) / 1e9 : 0,
      totalPeriods: both ? b.periods - a.periods : 0,
      throttledPeriods: both ? b.throttledPeriods - a.throttledPeriods : 0,
      throttledSeconds: both ? (b.throttledNs - a.throttledNs) / 1e9 : 0,
      memoryPeakBytes: this.peak.get(t.id) ?? 0,
      restarts: info?.RestartCount ?? 0,
    };
  }
}
