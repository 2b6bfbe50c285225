import path from "node:path";
import type { Group, Load, Tool } from "../scenario/schema.js";
import { cellLabels, clientLabels } from "../docker/labels.js";
import { driverFor } from "./drivers/index.js";

export { mixEnv } from "./mix.js";

/**
 * Pure planning of a cell's load-client fleet: which containers, with which image, command,
 * environment, limits and output folder. Each tool's driver (drivers/) fills in what is its own;
 * launch.ts does the Docker I/O.
 *
 * Loads in a group are totals for the whole group: planClients splits them over the clients
 * (the open rate evenly, connections as whole numbers); k6 instances take the totals with an
 * --execution-segment instead, so k6 itself splits rate and VUs the way the k6 operator does.
 */

/** The fields of a scenario group the fleet needs (a schema Group fits). */
export type FleetGroup = Pick<Group, "name" | "tool" | "request" | "clients"> & { load: Load };

export interface FleetTarget {
  /** Host name of the front on the lab network. */
  host: string;
  httpPort: number;
  tcpPort: number;
}

export const DEFAULT_TARGET: FleetTarget = { host: "front", httpPort: 8080, tcpPort: 25000 };

/** From now to the common start: long enough to create and start every container of a fleet. */
export const START_DELAY_MS = 4000;
/** A request without a reply after this long counts as a timeout. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** Added to start delay + warm-up + duration + two timeouts before a client still running is killed. */
export const HARD_TIMEOUT_MARGIN_MS = 30_000;
/** Memory limit of each client container. */
export const CLIENT_MEMORY_BYTES = 512 * 1024 * 1024;

export interface FleetSpec {
  /** The run label's value; also part of container names. */
  runId: string;
  /** Optional cell id, recorded as the cell label. */
  cellId?: string;
  /** Docker network the clients join (the lab network of the compose project, e.g. "fiblab_lab"). */
  network: string;
  /** Per-cell output folder on the host; each client gets <outDir>/<group>-<index>/ mounted at /out. */
  outDir: string;
  groups: FleetGroup[];
  durationMs: number;
  warmupMs: number;
  /** Seeds each client's random draws (Poisson arrivals, the request mix), so a run can be repeated. */
  seed?: number;
  target?: FleetTarget;
  requestTimeoutMs?: number;
  startDelayMs?: number;
  /** More labels on every container. */
  labels?: Record<string, string>;
  hardTimeoutMarginMs?: number;
}

/** What one client container of a group is asked to do: its share of the group's load. */
export interface ClientPlan {
  group: string;
  clientIndex: number;
  load: Load;
}

/** One client container, as launch.ts creates it. */
export interface ClientSpec {
  group: string;
  clientIndex: number;
  clientCount: number;
  tool: Tool;
  loadModel: "open" | "closed";
  image: string;
  name: string;
  /** Entrypoint arguments, or undefined for the image's default command. */
  cmd: string[] | undefined;
  env: Record<string, string>;
  nanoCpus: number;
  memoryBytes: number;
  /** Host folder mounted at /out. */
  outDir: string;
  labels: Record<string, string>;
  /** A REST API port inside the container to publish on 127.0.0.1 (k6), if any. */
  apiPort: number | undefined;
}

/** What a driver needs to know about the fleet to plan one client. */
export interface PlanContext {
  target: FleetTarget;
  durationMs: number;
  warmupMs: number;
  timeoutMs: number;
  startAt: number;
  seed: number;
}

/** The part of a client's container that is the tool's own. */
export type ToolContainer = Pick<ClientSpec, "image" | "cmd" | "env" | "apiPort">;

/**
 * Split a group's load over its clients: the open rate evenly, connections as evenly as whole
 * numbers allow (the first clients take the remainder), an autocannon rate cap in proportion to
 * the client's connections.
 */
export function planClients(group: FleetGroup): ClientPlan[] {
  const n = group.clients.count;
  const load = group.load;
  return Array.from({ length: n }, (_, clientIndex): ClientPlan => {
    if (load.model === "open") {
      return { group: group.name, clientIndex, load: { ...load, rate: load.rate / n } };
    }
    const connections = Math.floor(load.connections / n) + (clientIndex < load.connections % n ? 1 : 0);
    return {
      group: group.name,
      clientIndex,
      load: {
        model: "closed",
        connections,
        pipelining: load.pipelining,
        ...(load.rate !== undefined ? { rate: (load.rate * connections) / load.connections } : {}),
      },
    };
  });
}

export function requestTimeoutMs(spec: FleetSpec): number {
  return spec.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
}

export function startDelayMs(spec: FleetSpec): number {
  return spec.startDelayMs ?? START_DELAY_MS;
}

/** How long after now every client must have ended. */
export function hardTimeoutMs(spec: FleetSpec): number {
  return (
    startDelayMs(spec) + spec.warmupMs + spec.durationMs + 2 * requestTimeoutMs(spec) + (spec.hardTimeoutMarginMs ?? HARD_TIMEOUT_MARGIN_MS)
  );
}

const safe = (s: string) => s.replace(/[^a-zA-Z0-9_.-]+/g, "-").replace(/^[^a-zA-Z0-9]+/, "");

/** A distinct, repeatable seed per client: the run's seed, the group's position, the client's index. */
export function clientSeed(seed: number, groupIndex: number, clientIndex: number): number {
  return (Math.imul(seed >>> 0, 1_000_003) + groupIndex * 10_007 + clientIndex) >>> 0;
}

/** Every client container of the fleet, all starting at `startAt` (epoch ms). */
export function planFleet(spec: FleetSpec, startAt: number, uniq = ""): ClientSpec[] {
  const target = spec.target ?? DEFAULT_TARGET;
  return spec.groups.flatMap((g, groupIndex) =>
    planClients(g).map((client, i): ClientSpec => {
      const ctx: PlanContext = {
        target,
        durationMs: spec.durationMs,
        warmupMs: spec.warmupMs,
        timeoutMs: requestTimeoutMs(spec),
        startAt,
        seed: clientSeed(spec.seed ?? 1, groupIndex, i),
      };
      return {
        group: g.name,
        clientIndex: i,
        clientCount: g.clients.count,
        tool: g.tool,
        loadModel: g.load.model,
        name: safe(`fiblab-${spec.runId}-${g.name}-${i}${uniq ? `-${uniq}` : ""}`),
        nanoCpus: Math.round(g.clients.cpus * 1e9),
        memoryBytes: CLIENT_MEMORY_BYTES,
        outDir: path.resolve(spec.outDir, safe(`${g.name}-${i}`)),
        labels: { ...spec.labels, ...cellLabels(spec.runId, spec.cellId), ...clientLabels(g.name, i) },
        ...driverFor(g.tool).plan(g, client, ctx),
      };
    }),
  );
}
