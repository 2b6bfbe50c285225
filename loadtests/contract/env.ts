/**
 * The client contract, first half: what the orchestrator hands a load client. Both sides import
 * this file (the orchestrator to build the environment, the clients to read it), so a name or a
 * unit cannot drift between them. No runtime dependencies: the client images load it as it is.
 */

/** Latency histograms everywhere: microseconds, 3 significant digits, auto-resizing, pure JS. */
export const HISTOGRAM_SETTINGS = {
  bitBucketSize: 32,
  autoResize: true,
  lowestDiscernibleValue: 1,
  numberOfSignificantValueDigits: 3,
  useWebAssembly: false,
} as const;

/** Where every client writes its result inside its container (the host mounts its folder at /out). */
export const RESULT_FILE = "result.json";
export const OUT_DIR = "/out";

/** Open-model arrival processes: evenly spaced, or a seeded Poisson process (exponential gaps). */
export const ARRIVALS = ["uniform", "poisson"] as const;
export type Arrivals = (typeof ARRIVALS)[number];

/**
 * The Node load client's environment (image fiblab/loadclient: the TCP client and autocannon).
 * Every value is a string, as the environment carries it.
 */
export interface NodeClientEnv {
  TOOL: "tcp" | "autocannon";
  TARGET_HOST: string;
  TARGET_PORT: string;
  /** open | closed (autocannon: closed only). */
  MODEL: "open" | "closed";
  /** Open: requests/s of THIS client; autocannon: an optional cap. */
  RATE?: string;
  /** Open: uniform (default) or poisson. */
  ARRIVALS?: Arrivals;
  /** Seed of the Poisson arrivals (and of the request mix's draw). */
  SEED?: string;
  CONNECTIONS: string;
  /** Closed model: requests outstanding per connection. */
  PIPELINING?: string;
  /** TCP open model: outstanding per connection before later sends wait. */
  MAX_INFLIGHT?: string;
  /** JSON list of {n, weight} (tcp) or {path, weight} (http). */
  MIX: string;
  DURATION_MS: string;
  WARMUP_MS: string;
  TIMEOUT_MS: string;
  GROUP: string;
  CLIENT_INDEX: string;
  CLIENT_COUNT: string;
  /** Epoch ms: start of the warm-up, the same for every client of a cell (the start barrier). */
  START_AT: string;
  /** Path of the result file inside the container. */
  OUT: string;
}

/**
 * k6's environment, read by loadtests/k6/fib.js (plain JS inside k6, so it cannot import this file;
 * a unit test checks that every name here appears there).
 */
export interface K6Env {
  TARGET: string;
  MIX: string;
  MODEL: "open" | "closed";
  /** k6 durations: "20000ms". */
  DURATION: string;
  WARMUP: string;
  TIMEOUT: string;
  GROUP: string;
  CLIENT_INDEX: string;
  /** Open model: arrivals/s for the whole group (k6's execution segment takes this instance's share). */
  RATE?: string;
  PRE_ALLOCATED_VUS?: string;
  MAX_VUS?: string;
  /** Closed model: VUs for the whole group. */
  VUS?: string;
  K6_NO_USAGE_REPORT: "true";
}

/** A typed environment as plain strings, undefined entries left out. */
export function envRecord(env: NodeClientEnv | K6Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = String(v);
  return out;
}

/**
 * One live progress line a client prints on stdout, about once a second, as JSON. The last one
 * carries done: true.
 */
export interface ProgressLine {
  /** Epoch ms. */
  t: number;
  /** Replies per second since the previous line (every phase). */
  rps: number;
  phase?: "wait" | "warmup" | "measure" | "drain";
  sent?: number;
  ok?: number;
  errors?: number;
  dropped?: number;
  done?: boolean;
}

/** A stdout line as progress, or undefined when it is anything else. */
export function parseProgressLine(line: string): ProgressLine | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const p = JSON.parse(line) as Record<string, unknown>;
    if (typeof p.t !== "number" || typeof p.rps !== "number") return undefined;
    const out: ProgressLine = { t: p.t, rps: p.rps };
    if (p.phase === "wait" || p.phase === "warmup" || p.phase === "measure" || p.phase === "drain") out.phase = p.phase;
    for (const k of ["sent", "ok", "errors", "dropped"] as const) if (typeof p[k] === "number") out[k] = p[k];
    if (p.done === true) out.done = true;
    return out;
  } catch {
    return undefined;
  }
}
