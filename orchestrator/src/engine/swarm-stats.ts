import { ContainerSampler, type SampledWindow } from "../docker/sampler.js";
import type { ReplicaTick } from "../measure/timeseries.js";
import type { WindowSampler } from "./engine.js";
import type { Swarm } from "./swarm-nodes.js";

/**
 * Container stats over a window on every node of the swarm: one docker/sampler.ts sampler per
 * node, reading that node's engine, merged. This machine's CPU and the model's memory per process
 * are not read: a node's pids are not this machine's, and on a real swarm neither is its CPU.
 */

/** Pure: the model replicas running (and healthy) tick by tick, summed over the nodes that ran any. */
export function mergeTicks(perNode: readonly (readonly ReplicaTick[])[]): ReplicaTick[] {
  const serving = perNode.filter((ticks) => ticks.some((t) => t.running > 0));
  if (serving.length === 0) return [...(perNode[0] ?? [])];
  const length = Math.min(...serving.map((ticks) => ticks.length));
  return Array.from({ length }, (_, i) => {
    const at = serving.map((ticks) => ticks[i] as ReplicaTick);
    return {
      t: Math.max(...at.map((x) => x.t)),
      running: at.reduce((a, x) => a + x.running, 0),
      healthy: at.reduce((a, x) => a + x.healthy, 0),
    };
  });
}

/** Pure: the nodes' windows as one (each node's containers and series are its own). */
export function mergeWindows(windows: readonly SampledWindow[]): SampledWindow {
  return {
    containers: windows.flatMap((w) => w.containers),
    windowMs: Math.max(0, ...windows.map((w) => w.windowMs)),
    series: windows.flatMap((w) => w.series),
    replicas: mergeTicks(windows.map((w) => w.replicas)),
  };
}

/** Every container carrying the label (key=value) on any node of the swarm. */
export async function swarmSampler(swarm: Swarm, label: string): Promise<WindowSampler> {
  const samplers = await Promise.all(
    swarm.nodes.map((n) => ContainerSampler.forLabel(label, { docker: n.docker, host: false, memory: false })),
  );
  return {
    async start() {
      await Promise.all(samplers.map((s) => s.start()));
    },
    stop: async () => mergeWindows(await Promise.all(samplers.map((s) => s.stop()))),
  };
}
