import type Docker from "dockerode";
import { LABEL, roleOf, type Role } from "../docker/labels.js";
import type { SampledWindow } from "../docker/sampler.js";
import type { ContainerStats } from "../measure/container-stats.js";
import type { WindowSampler } from "./engine.js";
import type { Swarm, SwarmNode } from "./swarm-nodes.js";

/**
 * Container stats over a window on every node of the swarm: each container carrying the label
 * is read about once a second through its node's engine, and its window is the difference of its
 * first and last reading (CPU, CFS periods, throttling) and the highest memory seen. Lighter than
 * docker/sampler.ts, which reads this machine's engine only: no per-second series, no host CPU,
 * and restarts are not counted (Swarm replaces a failed task with a new container).
 */

export interface Reading {
  /** The engine's own timestamp, epoch ms. */
  readAt: number;
  cpuNs: number;
  periods: number;
  throttledPeriods: number;
  throttledNs: number;
  memory: number;
}

export interface Tracked {
  node: SwarmNode;
  id: string;
  name: string;
  role: Role;
  group?: string;
  clientIndex?: number;
  /** The CPU limit in cores (NanoCpus), read when the container was first seen; null when unlimited. */
  cpuLimit: number | null;
  first?: Reading;
  last?: Reading;
  peak: number;
}

async function read(c: Docker.Container): Promise<Reading | undefined> {
  try {
    const s = await c.stats({ stream: false, "one-shot": true });
    const readAt = Date.parse(s.read);
    if (!(readAt > 0) || !s.cpu_stats?.cpu_usage?.total_usage) return undefined;
    const t = s.cpu_stats.throttling_data;
    return {
      readAt,
      cpuNs: s.cpu_stats.cpu_usage.total_usage,
      periods: t?.periods ?? 0,
      throttledPeriods: t?.throttled_periods ?? 0,
      throttledNs: t?.throttled_time ?? 0,
      memory: s.memory_stats.usage ?? 0,
    };
  } catch {
    return undefined; // gone: reported with what was read
  }
}

/** Pure: one container's figures over the window, from its first and last reading. */
export function statsBetween(t: Tracked): ContainerStats {
  const a = t.first;
  const b = t.last;
  const d = (f: (r: Reading) => number) => (a && b ? Math.max(0, f(b) - f(a)) : 0);
  return {
    name: t.name,
    role: t.role,
    ...(t.group !== undefined ? { group: t.group } : {}),
    ...(t.clientIndex !== undefined ? { clientIndex: t.clientIndex } : {}),
    cpuLimit: t.cpuLimit,
    sampledSeconds: d((r) => r.readAt) / 1000,
    cpuSeconds: d((r) => r.cpuNs) / 1e9,
    totalPeriods: d((r) => r.periods),
    throttledPeriods: d((r) => r.throttledPeriods),
    throttledSeconds: d((r) => r.throttledNs) / 1e9,
    memoryPeakBytes: t.peak,
    restarts: 0,
  };
}

export class SwarmSampler implements WindowSampler {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private startedAt = 0;

  constructor(
    private readonly swarm: Swarm,
    private readonly label: string,
  ) {}

  private async list(node: SwarmNode): Promise<void> {
    const list = await node.docker.listContainers({ filters: { label: [this.label] } }).catch(() => []);
    for (const c of list) {
      const role = roleOf(c.Labels);
      if (!role || this.tracked.has(c.Id)) continue;
      const index = c.Labels[LABEL.clientIndex];
      // Read now: a client may be gone by the end of the window.
      const info = await node.docker
        .getContainer(c.Id)
        .inspect()
        .catch(() => undefined);
      const nano = info?.HostConfig.NanoCpus ?? 0;
      this.tracked.set(c.Id, {
        node,
        id: c.Id,
        name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
        role,
        ...(c.Labels[LABEL.group] !== undefined ? { group: c.Labels[LABEL.group] } : {}),
        ...(index !== undefined ? { clientIndex: Number(index) } : {}),
        cpuLimit: nano > 0 ? nano / 1e9 : null,
        peak: 0,
      });
    }
  }

  private async tick(): Promise<void> {
    await Promise.all(this.swarm.nodes.map((n) => this.list(n)));
    await Promise.all(
      [...this.tracked.values()].map(async (t) => {
        const r = await read(t.node.docker.getContainer(t.id));
        if (!r) return;
        t.first ??= r;
        t.last = r;
        t.peak = Math.max(t.peak, r.memory);
      }),
    );
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    await this.tick();
    this.timer = setInterval(() => {
      this.inFlight ??= this.tick().finally(() => (this.inFlight = undefined));
    }, 1000);
  }

  async stop(): Promise<SampledWindow> {
    clearInterval(this.timer);
    await this.inFlight;
    await this.tick();
    const containers = [...this.tracked.values()].map(statsBetween);
    return { containers, windowMs: Date.now() - this.startedAt, series: [], replicas: [] };
  }
}
