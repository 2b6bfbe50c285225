import { chmod, mkdir } from "node:fs/promises";
import os from "node:os";
import type { ClientResult } from "../../../loadtests/contract/result.js";
import type { Tool } from "../scenario/schema.js";
import { createClient, follow, removeClient, waitForExit } from "./containers.js";
import type { ClientProgress, LoadDriver, RunningClient } from "./driver.js";
import { driverFor } from "./drivers/index.js";
import { hardTimeoutMs, planFleet, startDelayMs, type ClientSpec, type FleetSpec } from "./plan.js";

export type { ClientProgress } from "./driver.js";

/**
 * One cell's fleet of load-client containers, start to end: create one container per client
 * (CPU and memory limits, the lab network, its own output folder at /out), start them, release
 * them together at one start time (each tool's driver holds its own barrier), wait with a hard
 * timeout, collect a validated ClientResult from each, and remove the containers. Raw outputs
 * stay in the output folders. Where the containers run is the ClientHost's: this machine's engine
 * by default, a swarm's client nodes for the Swarm engine (engine/swarm-clients.ts).
 */

/** Where a fleet's client containers are made, and what happens to them around the steps here. */
export interface ClientHost {
  /** The k-th client's container, created (not started) on the network. */
  create(spec: ClientSpec, network: string, k: number): Promise<RunningClient>;
  /** After the client exited, before its result is read (e.g. copy its output back here). */
  beforeCollect?(c: RunningClient): Promise<void>;
  /** The host name of the machine the client runs on. */
  nodeOf(c: RunningClient): string;
  /** Remove the container (and whatever the host keeps for it); never throws. */
  remove(c: RunningClient): Promise<void>;
}

/** This machine's engine: the clients beside the compose project. */
export const localClients: ClientHost = {
  create: (spec, network) => createClient(spec, network),
  nodeOf: () => os.hostname(),
  remove: removeClient,
};

export interface ClientOutcome {
  group: string;
  clientIndex: number;
  tool: Tool;
  container: string;
  outDir: string;
  exitCode: number | null;
  /** The host name of the machine (or swarm node) it ran on. */
  node: string;
  /** When it was let go (epoch ms). */
  startedAt: number;
  result?: ClientResult;
  error?: string;
}

export interface FleetOutcome {
  /** The common start time (epoch ms): warm-up begins here, measurement at + warmupMs. */
  startAt: number;
  /** The planned measurement window, epoch ms (each result carries its own). */
  window: { measureStart: number; measureEnd: number };
  clients: ClientOutcome[];
  /** True when every client produced a valid result. */
  ok: boolean;
}

export type FleetPhase = "start" | "warmup" | "measure" | "drain" | "done";

export interface LaunchHooks {
  onProgress?: (p: ClientProgress) => void;
  /** Lines the clients print that are not progress, and the launcher's own remarks. */
  onLog?: (source: string, line: string) => void;
  /**
   * The fleet's phases as they happen: "start" once every container runs (the common start is
   * still ahead), then "warmup" (skipped when there is none), "measure", "drain" (the window has
   * ended; clients finish their last replies and exit), "done". durationMs where known.
   */
  onPhase?: (phase: FleetPhase, at: number, durationMs?: number) => void;
  /** Aborting kills and removes the fleet, then launchFleet rejects. */
  signal?: AbortSignal;
}

interface Timeline {
  startAt: number;
  measureStart: number;
  measureEnd: number;
}

/** The clients of each driver, so each driver releases and watches its own. */
function byDriver(clients: RunningClient[]): Map<LoadDriver, RunningClient[]> {
  const out = new Map<LoadDriver, RunningClient[]>();
  for (const c of clients) {
    const d = driverFor(c.spec.tool);
    out.set(d, [...(out.get(d) ?? []), c]);
  }
  return out;
}

/** Timers that announce the phases at their planned times; returns the function that cancels them. */
function announcePhases(spec: FleetSpec, t: Timeline, onPhase: LaunchHooks["onPhase"]): () => void {
  if (!onPhase) return () => undefined;
  onPhase("start", Date.now(), Math.max(0, t.startAt - Date.now()));
  const timers: NodeJS.Timeout[] = [];
  const at = (when: number, phase: FleetPhase, durationMs?: number) =>
    timers.push(setTimeout(() => onPhase(phase, Date.now(), durationMs), Math.max(0, when - Date.now())));
  if (spec.warmupMs > 0) at(t.startAt, "warmup", spec.warmupMs);
  at(t.measureStart, "measure", spec.durationMs);
  at(t.measureEnd, "drain");
  return () => timers.forEach(clearTimeout);
}

async function collectAll(clients: RunningClient[], spec: FleetSpec, startAt: number, host: ClientHost): Promise<ClientOutcome[]> {
  const ctx = { warmupMs: spec.warmupMs, durationMs: spec.durationMs };
  return Promise.all(
    clients.map(async (c): Promise<ClientOutcome> => {
      const s = c.spec;
      const o: ClientOutcome = {
        group: s.group,
        clientIndex: s.clientIndex,
        tool: s.tool,
        container: s.name,
        outDir: s.outDir,
        exitCode: c.exitCode,
        node: host.nodeOf(c),
        startedAt: c.releasedAt ?? startAt,
      };
      const exited = c.exitCode !== 0 ? `exited with code ${c.exitCode}` : undefined;
      try {
        await host.beforeCollect?.(c);
        o.result = await driverFor(s.tool).collect(c, ctx);
        const error = c.error ?? exited;
        if (error) o.error = error;
      } catch (e) {
        o.error = [c.error, exited, `no result: ${(e as Error).message}`].filter(Boolean).join("; ");
      }
      return o;
    }),
  );
}

/** Runs one cell's fleet to its end; see the module comment. Containers are removed in every case. */
export async function launchFleet(spec: FleetSpec, hooks: LaunchHooks = {}, host: ClientHost = localClients): Promise<FleetOutcome> {
  const say = (line: string) => hooks.onLog?.("fleet", line);
  const startAt = Date.now() + startDelayMs(spec);
  const deadline = Date.now() + hardTimeoutMs(spec);
  const timeline: Timeline = { startAt, measureStart: startAt + spec.warmupMs, measureEnd: startAt + spec.warmupMs + spec.durationMs };
  const plan = planFleet(spec, startAt, Math.random().toString(36).slice(2, 6));
  const clients: RunningClient[] = [];
  const stops: (() => void)[] = [];
  try {
    // create
    for (const [k, s] of plan.entries()) {
      await mkdir(s.outDir, { recursive: true });
      await chmod(s.outDir, 0o777); // the clients run as uid 10001; the folder is theirs to write
      clients.push(await host.create(s, spec.network, k));
    }
    // start
    await Promise.all(clients.map((c) => c.container.start()));
    const emit = (p: ClientProgress) => hooks.onProgress?.(p);
    const follows = clients.map((c) =>
      follow(c, emit, (line) => hooks.onLog?.(`${c.spec.group}-${c.spec.clientIndex}`, line)).catch((e: Error) =>
        say(`log stream of ${c.spec.name}: ${e.message}`),
      ),
    );
    stops.push(announcePhases(spec, timeline, hooks.onPhase));
    // release
    const groups = byDriver(clients);
    await Promise.all([...groups].map(([d, cs]) => d.release(cs, { startAt, say, ...(hooks.signal ? { signal: hooks.signal } : {}) })));
    for (const [d, cs] of groups) if (d.watch) stops.push(d.watch(cs, { ...timeline, emit }));
    // wait
    await Promise.all(clients.map((c) => waitForExit(c, deadline, hooks.signal)));
    if (hooks.signal?.aborted) throw hooks.signal.reason ?? new Error("aborted");
    stops.forEach((stop) => stop());
    await Promise.race([Promise.all(follows), new Promise((r) => setTimeout(r, 2000))]);
    // collect
    const outcomes = await collectAll(clients, spec, startAt, host);
    hooks.onPhase?.("done", Date.now());
    return {
      startAt,
      window: { measureStart: timeline.measureStart, measureEnd: timeline.measureEnd },
      clients: outcomes,
      ok: outcomes.every((c) => c.result && !c.error),
    };
  } finally {
    stops.forEach((stop) => stop());
    await Promise.all(clients.map((c) => host.remove(c)));
  }
}
