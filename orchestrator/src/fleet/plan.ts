import path from "node:path";
import type { Group, RequestMix, Tool } from "../scenario/schema.js";
import { planClients } from "../scenario/expand.js";

/**
 * Pure planning of a cell's load-client fleet: which containers, with which image, command,
 * environment, limits and output folder. launch.ts does the Docker I/O.
 *
 * Loads in a group are totals for the whole group: the Node clients get their share through
 * planClients (rate split evenly, connections as whole numbers); every k6 instance gets the totals
 * and an --execution-segment, so k6 itself splits rate and VUs the way the k6 operator does.
 */

/** The fields of a scenario group the fleet needs (a schema Group fits). */
export type FleetGroup = Pick<Group, "name" | "tool" | "load" | "request" | "clients">;

export interface FleetTarget {
  /** Host name of the front on the lab network. */
  host: string;
  httpPort: number;
  tcpPort: number;
}

export const DEFAULT_TARGET: FleetTarget = { host: "front", httpPort: 8080, tcpPort: 25000 };

export const DEFAULT_IMAGES = { k6: "fiblab/k6:latest", loadclient: "fiblab/loadclient:latest" } as const;

export interface FleetSpec {
  /** fiblab.run label value; also part of container names. */
  runId: string;
  /** Optional cell id, recorded as the fiblab.cell label. */
  cellId?: string;
  /** Docker network the clients join (the lab network of the compose project, e.g. "fiblab_lab"). */
  network: string;
  /** Per-cell output folder on the host; each client gets <outDir>/<group>-<index>/ mounted at /out. */
  outDir: string;
  groups: FleetGroup[];
  durationMs: number;
  warmupMs: number;
  target?: FleetTarget;
  /** Per-request timeout, ms (default 10000). */
  requestTimeoutMs?: number;
  /** Memory limit of each client container, MiB (default 512). */
  memoryMb?: number;
  /** Time from now to the common start, to create and start every container (default 4000 ms). */
  startDelayMs?: number;
  /** TCP open model: connections per client (the schema has none for the open model; default 8). */
  openConnections?: number;
  /** k6 open model VU pool for the whole group (default from the rate). */
  k6Vus?: { preAllocated?: number; max?: number };
  images?: { k6?: string; loadclient?: string };
  /** More labels on every container. */
  labels?: Record<string, string>;
  /** Added to duration + warm-up + start delay + timeouts before a client is killed (default 30000). */
  hardTimeoutMarginMs?: number;
}

export interface ClientSpec {
  group: string;
  clientIndex: number;
  clientCount: number;
  tool: Tool;
  loadModel: "open" | "closed";
  image: string;
  name: string;
  /** Entrypoint arguments (k6), or undefined for the image's default command. */
  cmd: string[] | undefined;
  env: Record<string, string>;
  nanoCpus: number;
  memoryBytes: number;
  /** Host folder mounted at /out. */
  outDir: string;
  labels: Record<string, string>;
  /** k6: port of the REST API inside the container. */
  apiPort: number | undefined;
}

export const K6_API_PORT = 6565;
export const K6_OUTPUT = "k6.json.gz";
export const RESULT_FILE = "result.json";

const safe = (s: string) => s.replace(/[^a-zA-Z0-9_.-]+/g, "-").replace(/^[^a-zA-Z0-9]+/, "");

/** k6's segment of instance i of n, and the sequence that makes the n segments stripe evenly. */
export function executionSegment(index: number, count: number): { segment: string; sequence: string } {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new Error(`bad k6 instance ${index} of ${count}`);
  }
  const frac = (k: number) => (k === 0 ? "0" : k === count ? "1" : `${k}/${count}`);
  return {
    segment: `${frac(index)}:${frac(index + 1)}`,
    sequence: Array.from({ length: count + 1 }, (_, k) => frac(k)).join(","),
  };
}

/** The MIX variable: {n, weight} for TCP, {path, weight} for HTTP. */
export function mixEnv(request: RequestMix, tool: Tool): string {
  if (tool === "tcp") {
    return JSON.stringify(
      request.map((r) => {
        if (r.kind !== "fib") throw new Error(`the tcp tool cannot send "${r.text}"`);
        return { n: r.arg, weight: r.weight };
      }),
    );
  }
  return JSON.stringify(request.map((r) => ({ path: `/${r.kind}/${r.arg}`, weight: r.weight })));
}

/** k6 open model VU pool for the whole group. */
export function k6VuPool(rate: number, count: number, given?: { preAllocated?: number; max?: number }) {
  // Enough VUs for half a second of latency at the full rate before k6 must start more (which
  // it does slowly, dropping arrivals meanwhile).
  const preAllocated = given?.preAllocated ?? Math.max(2 * count, Math.ceil(rate / 2));
  const max = Math.max(preAllocated, given?.max ?? Math.min(1000 * count, Math.max(50 * count, Math.ceil(rate * 2))));
  return { preAllocated, max };
}

export function requestTimeoutMs(spec: FleetSpec): number {
  return spec.requestTimeoutMs ?? 10_000;
}

/** How long after now every client must have ended. */
export function hardTimeoutMs(spec: FleetSpec): number {
  return (
    (spec.startDelayMs ?? 4000) + spec.warmupMs + spec.durationMs + 2 * requestTimeoutMs(spec) + (spec.hardTimeoutMarginMs ?? 30_000)
  );
}

/** Every client container of the fleet, all starting at `startAt` (epoch ms). */
export function planFleet(spec: FleetSpec, startAt: number, uniq = ""): ClientSpec[] {
  const target = spec.target ?? DEFAULT_TARGET;
  const timeout = requestTimeoutMs(spec);
  const memoryBytes = (spec.memoryMb ?? 512) * 1024 * 1024;
  const out: ClientSpec[] = [];
  for (const g of spec.groups) {
    const count = g.clients.count;
    const nanoCpus = Math.round(g.clients.cpus * 1e9);
    const plans = planClients(g as Group);
    plans.forEach((plan, i) => {
      const common = {
        group: g.name,
        clientIndex: i,
        clientCount: count,
        tool: g.tool,
        loadModel: g.load.model,
        name: safe(`fiblab-${spec.runId}-${g.name}-${i}${uniq ? `-${uniq}` : ""}`),
        nanoCpus,
        memoryBytes,
        outDir: path.resolve(spec.outDir, safe(`${g.name}-${i}`)),
        labels: {
          ...spec.labels,
          "fiblab.run": spec.runId,
          "fiblab.role": "client",
          "fiblab.group": g.name,
          "fiblab.client-index": String(i),
          ...(spec.cellId ? { "fiblab.cell": spec.cellId } : {}),
        },
      };
      if (g.tool === "k6") {
        const seg = executionSegment(i, count);
        const env: Record<string, string> = {
          TARGET: `http://${target.host}:${target.httpPort}`,
          MIX: mixEnv(g.request, "k6"),
          MODEL: g.load.model,
          DURATION: `${spec.durationMs}ms`,
          WARMUP: `${spec.warmupMs}ms`,
          TIMEOUT: `${timeout}ms`,
          GROUP: g.name,
          CLIENT_INDEX: String(i),
          K6_NO_USAGE_REPORT: "true",
        };
        if (g.load.model === "open") {
          const pool = k6VuPool(g.load.rate, count, g.load.vus ?? spec.k6Vus);
          env.RATE = String(g.load.rate);
          env.PRE_ALLOCATED_VUS = String(pool.preAllocated);
          env.MAX_VUS = String(pool.max);
        } else {
          env.VUS = String(g.load.connections);
        }
        out.push({
          ...common,
          image: spec.images?.k6 ?? DEFAULT_IMAGES.k6,
          cmd: [
            "run",
            "--paused",
            "--address",
            `0.0.0.0:${K6_API_PORT}`,
            "--out",
            `json=/out/${K6_OUTPUT}`,
            "--summary-export",
            "/out/summary.json",
            "--no-usage-report",
            "--no-color",
            "--quiet",
            "--execution-segment",
            seg.segment,
            "--execution-segment-sequence",
            seg.sequence,
            "/app/fib.js",
          ],
          env,
          apiPort: K6_API_PORT,
        });
        return;
      }
      const env: Record<string, string> = {
        TOOL: g.tool,
        TARGET_HOST: target.host,
        TARGET_PORT: String(g.tool === "tcp" ? target.tcpPort : target.httpPort),
        MODEL: plan.load.model,
        MIX: mixEnv(g.request, g.tool),
        DURATION_MS: String(spec.durationMs),
        WARMUP_MS: String(spec.warmupMs),
        TIMEOUT_MS: String(timeout),
        GROUP: g.name,
        CLIENT_INDEX: String(i),
        CLIENT_COUNT: String(count),
        START_AT: String(Math.round(startAt)),
        OUT: `/out/${RESULT_FILE}`,
      };
      if (plan.load.model === "open") {
        env.RATE = String(plan.load.rate);
        env.CONNECTIONS = String((g.load.model === "open" ? g.load.connections : undefined) ?? spec.openConnections ?? 8);
      } else {
        env.CONNECTIONS = String(plan.load.connections);
        env.PIPELINING = String(plan.load.pipelining);
        if (plan.load.rate !== undefined) env.RATE = String(plan.load.rate);
      }
      out.push({ ...common, image: spec.images?.loadclient ?? DEFAULT_IMAGES.loadclient, cmd: undefined, env, apiPort: undefined });
    });
  }
  return out;
}

/** The k6 REST API body that releases a paused run. */
export const K6_RESUME_BODY = { data: { type: "status", id: "default", attributes: { paused: false } } };

/** k6's ExecutionStatus value for "initialised and waiting for the resume" (lib/execution.go). */
export const K6_STATUS_PAUSED_BEFORE_RUN = 4;
