import type Docker from "dockerode";
import { docker } from "../docker/sweep.js";
import type { ContainerStats } from "./container-stats.js";

type Role = ContainerStats["role"];

interface Snapshot {
  cpuNs: number;
  periods: number;
  throttledPeriods: number;
  throttledNs: number;
  memory: number;
  memoryMax: number;
}

async function snapshot(c: Docker.Container): Promise<Snapshot | undefined> {
  try {
    // one-shot: the engine answers at once instead of waiting a second for a second sample.
    const s = await c.stats({ stream: false, "one-shot": true });
    const mem = s.memory_stats as Docker.ContainerStats["memory_stats"] & { max_usage?: number };
    return {
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

/**
 * Samples containers through a load window: counters (CPU, CFS periods, throttled time) as the
 * difference between the window's first and last sample, memory as the highest seen (cgroup v1
 * also reports its own peak, max_usage, which covers moments between samples).
 */
export class ContainerSampler {
  private first = new Map<string, Snapshot>();
  private last = new Map<string, Snapshot>();
  private peak = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly targets: { id: string; name: string; role: Role }[], private readonly intervalMs = 1000) {}

  static async forLabel(label: string, roleOf: (labels: Record<string, string>) => Role | undefined): Promise<ContainerSampler> {
    const list = await docker.listContainers({ filters: { label: [label] } });
    const targets = list.flatMap((c) => {
      const role = roleOf(c.Labels);
      return role ? [{ id: c.Id, name: (c.Names[0] ?? c.Id).replace(/^\//, ""), role }] : [];
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
    await this.sampleAll();
    this.timer = setInterval(() => {
      this.inFlight ??= this.sampleAll().finally(() => (this.inFlight = undefined));
    }, this.intervalMs);
  }

  async stop(): Promise<ContainerStats[]> {
    clearInterval(this.timer);
    await this.inFlight;
    await this.sampleAll();
    return Promise.all(
      this.targets.map(async (t) => {
        const a = this.first.get(t.id);
        const b = this.last.get(t.id);
        const info = await docker.getContainer(t.id).inspect().catch(() => undefined);
        return {
          name: t.name,
          role: t.role,
          cpuSeconds: a && b ? (b.cpuNs - a.cpuNs) / 1e9 : 0,
          totalPeriods: a && b ? b.periods - a.periods : 0,
          throttledPeriods: a && b ? b.throttledPeriods - a.throttledPeriods : 0,
          throttledSeconds: a && b ? (b.throttledNs - a.throttledNs) / 1e9 : 0,
          memoryPeakBytes: this.peak.get(t.id) ?? 0,
          restarts: info?.RestartCount ?? 0,
        };
      }),
    );
  }
}
