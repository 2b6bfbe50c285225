import type { Deployment } from "../docker/compose.js";
import type { SampledWindow } from "../docker/sampler.js";
import type { FleetOutcome, LaunchHooks } from "../fleet/launch.js";
import type { FleetSpec } from "../fleet/plan.js";
import type { EngineInfo, Placement } from "../measure/placement.js";
import type { Scenario } from "../scenario/schema.js";

export type { EngineInfo, Placement } from "../measure/placement.js";

/**
 * Where a cell runs: one interface for deploying a cell's model and front, running its fleet,
 * sampling its containers and taking it down, so the runner never asks which engine it has.
 * Compose (compose.ts) is the single machine of every lab run so far; Swarm (swarm.ts) places the
 * model on server nodes and the clients on client nodes of a Docker swarm.
 */

export const ENGINES = ["compose", "swarm"] as const;
export type EngineName = (typeof ENGINES)[number];

/** Ports on 127.0.0.1 where a deployed cell's front answers (HTTP and TCP). */
export interface Endpoints {
  http: number;
  tcp: number;
}

/** Samples a cell's containers over a window, wherever they run. */
export interface WindowSampler {
  start(): Promise<void>;
  stop(): Promise<SampledWindow>;
}

export interface EngineFleetOutcome extends FleetOutcome {
  placements: Placement[];
}

/** Pure: where each client of a fleet ran. */
export function clientPlacements(outcome: FleetOutcome): Placement[] {
  return outcome.clients.map((c) => ({ role: "client", name: c.container, node: c.node, group: c.group, clientIndex: c.clientIndex }));
}

export interface Engine {
  readonly name: EngineName;
  /** What of the scenario this engine cannot carry out, one reason each (empty: all of it); checked before anything starts. */
  unsupported(scenario: Scenario): string[];
  /** The engine and, where it has several, its nodes: for environment.json and the report. */
  describe(): Promise<EngineInfo>;
  /** Where the front will answer; known before deploy, so a cold-start watch can begin first. */
  endpoints(d: Deployment): Promise<Endpoints>;
  /** The cell's model (every replica) and the front, up and healthy; throws with the engine's reason. */
  deploy(d: Deployment): Promise<void>;
  /** Where the model's replicas and the front run now. */
  placements(d: Deployment): Promise<Placement[]>;
  /** The deployment's settings the engine could not apply (after deploy), e.g. "py-threads: pids limit 256". */
  dropped(d: Deployment): string[];
  /** Runs a command in the model's first replica (cwd: workdir); its standard output, or throws with its output. */
  execInModel(d: Deployment, cmd: string[], opts: { workdir: string; timeoutMs: number }): Promise<string>;
  /** The network a deployment's clients join (FleetSpec.network). */
  network(d: Deployment): string;
  /** One cell's fleet, start to end, each client placed by the engine; its containers are removed in every case. */
  runFleet(spec: FleetSpec, hooks?: LaunchHooks): Promise<EngineFleetOutcome>;
  /** A sampler of every container carrying the label (key=value), wherever it runs. */
  sampler(label: string): Promise<WindowSampler>;
  /** Remove the deployment; safe to call twice. */
  teardown(d: Pick<Deployment, "project" | "model">): Promise<void>;
  /** Remove everything carrying the label: the safety net after a failure or an interrupt. */
  sweep(label: string): Promise<void>;
}
