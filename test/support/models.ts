import { loadCatalog } from "../../orchestrator/src/models/catalog.js";
import type { Manifest } from "../../orchestrator/src/models/manifest.js";

/**
 * The models the integration suites run against: every manifest of kind "model", narrowed by
 * MODELS=a,b (unknown names are an error, so a typo does not silently test nothing).
 */
export async function modelsUnderTest(): Promise<Manifest[]> {
  const all = (await loadCatalog()).filter((m) => m.kind === "model");
  const wanted = (process.env.MODELS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (!wanted.length) return all;
  const unknown = wanted.filter((w) => !all.some((m) => m.name === w));
  if (unknown.length) throw new Error(`MODELS names unknown models: ${unknown.join(", ")}; known: ${all.map((m) => m.name).join(", ")}`);
  return all.filter((m) => wanted.includes(m.name));
}

/**
 * What a long fib does to a short request on another connection, by strategy:
 * - "parallel": several processes can compute (WORKERS >= 2, a process pool, a process per
 *   connection): the short request is answered while the long one runs.
 * - "interleaved": threads in one process: the GIL is handed over every few milliseconds, so the
 *   short request is answered while the long one runs too (slower, on one core).
 * - "blocking": one event loop (hand-written, asyncio, gevent, Node) with fib on the loop: the
 *   short request waits until the long one is done.
 * - "serial": one connection at a time: the short request waits for the long one's connection.
 */
export type Concurrency = "parallel" | "interleaved" | "blocking" | "serial";

export interface Traits {
  name: string;
  tcp: boolean;
  http: boolean;
  runtime: string;
  workers: number;
  concurrency: Concurrency;
  /**
   * How many client connections the model serves at once on its own port. An idle connection
   * takes one of these slots until it closes: py-sync has one; a pre-fork model whose workers
   * each serve one connection at a time has WORKERS; threads, loops, greenlets have no
   * practical limit; fork-per-connection has MAX_CHILDREN.
   */
  connectionSlots: number;
  /** A process per connection, which comes and goes with it (py-fork). */
  forkPerConnection: boolean;
  /** The default env the deployments in these suites use (knob overrides). */
  env: Record<string, string>;
}

function knobDefault(m: Manifest, name: string): number | undefined {
  const k = m.knobs[name];
  if (k === undefined) return undefined;
  const v = k.default;
  if (typeof v === "boolean") return v ? 1 : 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** Traits from the manifest (strategy text and knobs), for a deployment with `env` overrides. */
export function traitsOf(m: Manifest, env: Record<string, string> = {}): Traits {
  const knob = (k: string) => (env[k] !== undefined ? Number(env[k]) : knobDefault(m, k));
  const text = `${m.strategy} ${m.description}`.toLowerCase();
  const strategy = m.strategy.toLowerCase();
  const workers = knob("WORKERS") ?? 1;
  const hasPoolKnob = m.knobs.POOL !== undefined;
  const pooled = hasPoolKnob ? (knob("POOL") ?? 0) > 0 : /pool/.test(strategy);
  const forkPerConnection = m.knobs.MAX_CHILDREN !== undefined || /fork (a child )?per connection|fork per/.test(text);
  // "One connection at a time" for the whole server, not per worker (py-prefork says that of
  // each of its WORKERS).
  const oneAtATime = /one (client )?connection at a time|iterative/.test(text) && m.knobs.WORKERS === undefined;

  let concurrency: Concurrency;
  if (oneAtATime) concurrency = "serial";
  else if (forkPerConnection) concurrency = "parallel";
  else if (hasPoolKnob) concurrency = pooled && workers >= 1 ? "parallel" : "blocking";
  else if (pooled) concurrency = "parallel";
  else if (m.knobs.WORKERS !== undefined && workers >= 2) concurrency = "parallel";
  else if (/thread/.test(strategy)) concurrency = "interleaved";
  else if (/event.?loop|asyncio|gevent|greenlet|select/.test(strategy)) concurrency = "blocking";
  else throw new Error(`${m.name}: cannot tell its concurrency from strategy "${m.strategy}"; teach test/support/models.ts`);

  let connectionSlots = Number.POSITIVE_INFINITY;
  if (concurrency === "serial") connectionSlots = 1;
  else if (forkPerConnection) connectionSlots = knob("MAX_CHILDREN") ?? 64;
  // Pre-fork workers that each serve one connection at a time (no threads, no loop, no greenlets).
  else if (/pre-?fork/.test(strategy) && !/thread|gevent|greenlet|loop|async/.test(strategy)) connectionSlots = workers;
  // Pre-forked processes of blocking threads (uWSGI): a thread per connection, WORKERS x THREADS
  // at once; unless idle connections wait in a poller instead of holding a thread (gthread).
  else if (/pre-?fork/.test(strategy) && /thread/.test(strategy) && !/poller|poll\b|epoll/.test(text)) {
    connectionSlots = workers * (knob("THREADS") ?? 1);
  }

  return {
    name: m.name,
    tcp: m.protocols.includes("tcp"),
    http: m.protocols.includes("http"),
    runtime: m.runtime,
    workers,
    concurrency,
    connectionSlots,
    forkPerConnection,
    env,
  };
}
