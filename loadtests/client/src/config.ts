import { ARRIVALS, type Arrivals, type NodeClientEnv } from "../../contract/env.js";
import { parseMix, type MixEntry } from "./mix.js";

/**
 * The client's configuration, from environment variables (see main.ts for the list).
 * Pure: every problem is collected and reported at once.
 */
export interface ClientConfig {
  tool: "tcp" | "autocannon";
  host: string;
  port: number;
  model: "open" | "closed";
  rate: number | undefined;
  /** Open model: how arrivals are spaced. */
  arrivals: Arrivals;
  /** Seed of the Poisson arrivals. */
  seed: number;
  connections: number;
  pipelining: number;
  maxInflight: number;
  mix: MixEntry[];
  durationMs: number;
  warmupMs: number;
  timeoutMs: number;
  group: string;
  clientIndex: number;
  clientCount: number;
  /** Epoch ms; undefined: start right away. */
  startAt: number | undefined;
  out: string;
}

type Env = Record<string, string | undefined>;

export function parseConfig(env: Env): ClientConfig {
  const problems: string[] = [];
  const get = (k: keyof NodeClientEnv) => {
    const v = env[k]?.trim();
    return v === "" ? undefined : v;
  };
  const num = (k: keyof NodeClientEnv, dflt: number | undefined, check: (v: number) => boolean, what: string): number => {
    const raw = get(k);
    if (raw === undefined) {
      if (dflt === undefined) problems.push(`${k} is required (${what})`);
      return dflt ?? 0;
    }
    const v = Number(raw);
    if (!Number.isFinite(v) || !check(v)) problems.push(`${k} must be ${what}, got ${JSON.stringify(raw)}`);
    return v;
  };
  const posInt = (v: number) => Number.isInteger(v) && v >= 1;
  const nonNegInt = (v: number) => Number.isInteger(v) && v >= 0;

  const tool = get("TOOL");
  if (tool !== "tcp" && tool !== "autocannon") problems.push(`TOOL must be tcp or autocannon, got ${JSON.stringify(tool)}`);
  const model = get("MODEL") ?? "closed";
  if (model !== "open" && model !== "closed") problems.push(`MODEL must be open or closed, got ${JSON.stringify(model)}`);
  if (tool === "autocannon" && model === "open") problems.push("autocannon drives the closed model only (RATE caps it); use MODEL=closed");
  const rateRaw = get("RATE");
  let rate: number | undefined;
  if (rateRaw !== undefined) rate = num("RATE", undefined, (v) => v > 0, "a number > 0");
  else if (model === "open") problems.push("RATE is required for the open model (requests per second of this client)");
  if (tool === "tcp" && model === "closed" && rate !== undefined)
    problems.push("RATE has no meaning for the tcp closed model; use MODEL=open");

  const arrivals = (get("ARRIVALS") ?? "uniform") as Arrivals;
  if (!ARRIVALS.includes(arrivals)) problems.push(`ARRIVALS must be ${ARRIVALS.join(" or ")}, got ${JSON.stringify(arrivals)}`);

  let mix: MixEntry[] = [];
  try {
    mix = parseMix(get("MIX"));
    if (tool === "tcp") {
      const bad = mix.filter((e) => e.n === null).map((e) => e.path);
      if (bad.length) problems.push(`the tcp protocol only serves fib n; not a fib request: ${bad.join(", ")}`);
    }
  } catch (e) {
    problems.push(`MIX: ${(e as Error).message}`);
  }

  const startRaw = get("START_AT");
  const cfg: ClientConfig = {
    tool: tool as ClientConfig["tool"],
    host: get("TARGET_HOST") ?? "front",
    port: num("TARGET_PORT", tool === "tcp" ? 25000 : 8080, (v) => posInt(v) && v < 65536, "a port number"),
    model: model as ClientConfig["model"],
    rate,
    arrivals,
    seed: num("SEED", 1, nonNegInt, "an integer >= 0"),
    connections: num("CONNECTIONS", 1, posInt, "an integer >= 1"),
    pipelining: num("PIPELINING", 1, posInt, "an integer >= 1"),
    maxInflight: num("MAX_INFLIGHT", 1000, posInt, "an integer >= 1"),
    mix,
    durationMs: num("DURATION_MS", undefined, (v) => v > 0, "a number of milliseconds > 0"),
    warmupMs: num("WARMUP_MS", 0, (v) => v >= 0, "a number of milliseconds >= 0"),
    timeoutMs: num("TIMEOUT_MS", 10_000, (v) => v > 0, "a number of milliseconds > 0"),
    group: get("GROUP") ?? "default",
    clientIndex: num("CLIENT_INDEX", 0, nonNegInt, "an integer >= 0"),
    clientCount: num("CLIENT_COUNT", 1, posInt, "an integer >= 1"),
    startAt: startRaw === undefined ? undefined : num("START_AT", undefined, (v) => v > 0, "epoch milliseconds"),
    out: get("OUT") ?? "/out/result.json",
  };
  if (cfg.clientIndex >= cfg.clientCount)
    problems.push(`CLIENT_INDEX (${cfg.clientIndex}) must be below CLIENT_COUNT (${cfg.clientCount})`);
  if (problems.length) throw new Error(`bad configuration:\n  ${problems.join("\n  ")}`);
  return cfg;
}
