import { chmod, mkdir } from "node:fs/promises";
import { follow, waitForExit } from "../fleet/containers.js";
import type { ClientProgress, LoadDriver, RunningClient } from "../fleet/driver.js";
import { driverFor } from "../fleet/drivers/index.js";
import type { ClientOutcome, FleetPhase, LaunchHooks } from "../fleet/launch.js";
import { hardTimeoutMs, planFleet, startDelayMs, type FleetSpec } from "../fleet/plan.js";
import type { EngineFleetOutcome, Placement } from "./engine.js";
import { copyBack, createOnNode, removeFromNode, type NodeClient } from "./swarm-clients.js";
import { assignNodes, type Swarm } from "./swarm-nodes.js";

/**
 * A cell's fleet on the swarm's client nodes, in the steps of fleet/launch.ts (create → start →
 * release → wait → collect), with the clients created on their nodes (swarm-clients.ts) and their
 * output copied back before collection. The start barrier holds across nodes as on one machine:
 * every node shares this machine's clock (START_AT), and k6 instances are resumed from here.
 */

function byDriver(clients: RunningClient[]): Map<LoadDriver, RunningClient[]> {
  const out = new Map<LoadDriver, RunningClient[]>();
  for (const c of clients) out.set(driverFor(c.spec.tool), [...(out.get(driverFor(c.spec.tool)) ?? []), c]);
  return out;
}

function phaseTimers(spec: FleetSpec, startAt: number, onPhase: LaunchHooks["onPhase"]): () => void {
  if (!onPhase) return () => undefined;
  onPhase("start", Date.now(), Math.max(0, startAt - Date.now()));
  const timers: NodeJS.Timeout[] = [];
  const at = (when: number, phase: FleetPhase, durationMs?: number) =>
    timers.push(setTimeout(() => onPhase(phase, Date.now(), durationMs), Math.max(0, when - Date.now())));
  if (spec.warmupMs > 0) at(startAt, "warmup", spec.warmupMs);
  at(startAt + spec.warmupMs, "measure", spec.durationMs);
  at(startAt + spec.warmupMs + spec.durationMs, "drain");
  return () => timers.forEach(clearTimeout);
}

async function collect(c: NodeClient, spec: FleetSpec, startAt: number): Promise<ClientOutcome> {
  const s = c.spec;
  const o: ClientOutcome = {
    group: s.group,
    clientIndex: s.clientIndex,
    tool: s.tool,
    container: s.name,
    outDir: s.outDir,
    exitCode: c.exitCode,
    startedAt: c.releasedAt ?? startAt,
  };
  const exited = c.exitCode !== 0 ? `exited with code ${c.exitCode}` : undefined;
  try {
    await copyBack(c);
    o.result = await driverFor(s.tool).collect(c, { warmupMs: spec.warmupMs, durationMs: spec.durationMs });
    const error = c.error ?? exited;
    if (error) o.error = error;
  } catch (e) {
    o.error = [c.error, exited, `no result from ${c.node.name}: ${(e as Error).message}`].filter(Boolean).join("; ");
  }
  return o;
}

/** Runs one cell's fleet on the client nodes; containers and node folders are removed in every case. */
export async function runSwarmFleet(swarm: Swarm, spec: FleetSpec, hooks: LaunchHooks = {}): Promise<EngineFleetOutcome> {
  const say = (line: string) => hooks.onLog?.("fleet", line);
  const startAt = Date.now() + startDelayMs(spec);
  const deadline = Date.now() + hardTimeoutMs(spec);
  const plan = planFleet(spec, startAt, Math.random().toString(36).slice(2, 6));
  const nodes = assignNodes(plan.length, swarm.clients);
  const clients: NodeClient[] = [];
  const stops: (() => void)[] = [];
  try {
    for (const [i, s] of plan.entries()) {
      await mkdir(s.outDir, { recursive: true });
      await chmod(s.outDir, 0o777);
      clients.push(await createOnNode(s, spec.network, nodes[i] as Swarm["clients"][number]));
    }
    await Promise.all(clients.map((c) => c.container.start()));
    const emit = (p: ClientProgress) => hooks.onProgress?.(p);
    const follows = clients.map((c) =>
      follow(c, emit, (line) => hooks.onLog?.(`${c.spec.group}-${c.spec.clientIndex}`, line)).catch((e: Error) =>
        say(`log stream of ${c.spec.name}: ${e.message}`),
      ),
    );
    stops.push(phaseTimers(spec, startAt, hooks.onPhase));
    const groups = byDriver(clients);
    await Promise.all([...groups].map(([d, cs]) => d.release(cs, { startAt, say, ...(hooks.signal ? { signal: hooks.signal } : {}) })));
    const timeline = { startAt, measureStart: startAt + spec.warmupMs, measureEnd: startAt + spec.warmupMs + spec.durationMs };
    for (const [d, cs] of groups) if (d.watch) stops.push(d.watch(cs, { ...timeline, emit }));
    await Promise.all(clients.map((c) => waitForExit(c, deadline, hooks.signal)));
    if (hooks.signal?.aborted) throw hooks.signal.reason ?? new Error("aborted");
    stops.forEach((stop) => stop());
    await Promise.race([Promise.all(follows), new Promise((r) => setTimeout(r, 2000))]);
    const outcomes = await Promise.all(clients.map((c) => collect(c, spec, startAt)));
    hooks.onPhase?.("done", Date.now());
    const placements = clients.map((c): Placement => ({
      role: "client",
      name: c.spec.name,
      node: c.node.name,
      group: c.spec.group,
      clientIndex: c.spec.clientIndex,
    }));
    return {
      startAt,
      window: { measureStart: timeline.measureStart, measureEnd: timeline.measureEnd },
      clients: outcomes,
      ok: outcomes.every((c) => c.result && !c.error),
      placements,
    };
  } finally {
    stops.forEach((stop) => stop());
    await Promise.all(clients.map(removeFromNode));
  }
}
