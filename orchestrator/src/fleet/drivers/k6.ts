import path from "node:path";
import { envRecord, RESULT_FILE, type K6Env } from "../../../../loadtests/contract/env.js";
import type { ClientResult } from "../../../../loadtests/contract/result.js";
import { writeFileAtomic } from "../../archive/atomic.js";
import type { LoadDriver, RunningClient, WatchContext } from "../driver.js";
import { K6_DEBUG_JSON_ARGS, K6_OUTPUT_ARGS, readK6Result } from "../k6-result.js";
import { mixEnv } from "../mix.js";

export const K6_IMAGE = "fiblab/k6:latest";
export const K6_API_PORT = 6565;
/** Set to 1 to have every k6 also write its per-request JSON lines (slow, large: for debugging). */
export const K6_DEBUG_JSON_ENV = "LAB_K6_JSON";
/** How long k6 instances may take to initialise (VUs, script) before the release gives up. */
const K6_READY_TIMEOUT_MS = 60_000;
/** A release later than this behind the common start is worth a line in the log. */
const LATE_RELEASE_MS = 200;

/** The k6 REST API body that releases a paused run. */
export const K6_RESUME_BODY = { data: { type: "status", id: "default", attributes: { paused: false } } };
/** k6's ExecutionStatus value for "initialised and waiting for the resume" (lib/execution.go). */
export const K6_STATUS_PAUSED_BEFORE_RUN = 4;

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

/** k6 open model VU pool for the whole group. */
export function k6VuPool(rate: number, count: number, given?: { preAllocated?: number; max?: number }) {
  // Enough VUs for half a second of latency at the full rate before k6 must start more (which
  // it does slowly, dropping arrivals meanwhile).
  const preAllocated = given?.preAllocated ?? Math.max(2 * count, Math.ceil(rate / 2));
  const max = Math.max(preAllocated, given?.max ?? Math.min(1000 * count, Math.max(50 * count, Math.ceil(rate * 2))));
  return { preAllocated, max };
}

/** Where one k6's REST API answers. */
type Api = { host: string; port: number };

/**
 * Where the engine published k6's REST API: 127.0.0.1 on this machine, or the address a client
 * node published it on (a swarm node's address on the lab's network, which this machine reaches).
 */
export function apiAddress(binding: { HostIp?: string; HostPort: string }): Api {
  const ip = binding.HostIp ?? "";
  return { host: ip === "" || ip === "0.0.0.0" || ip === "::" ? "127.0.0.1" : ip, port: Number(binding.HostPort) };
}

async function apiEndpoint(c: RunningClient): Promise<Api> {
  const info = await c.container.inspect();
  const binding = info.NetworkSettings.Ports?.[`${K6_API_PORT}/tcp`]?.[0];
  if (!binding) throw new Error(`${c.spec.name}: k6 API port was not published`);
  return apiAddress(binding);
}

async function k6Api(api: Api, pathname: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(`http://${api.host}:${api.port}${pathname}`, { ...init, signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`k6 API ${pathname}: HTTP ${res.status}`);
  return res.json();
}

async function pausedBeforeRun(api: Api): Promise<boolean> {
  try {
    const body = (await k6Api(api, "/v1/status")) as { data?: { attributes?: { status?: number; paused?: boolean } } };
    const a = body.data?.attributes;
    return a?.paused === true && a.status === K6_STATUS_PAUSED_BEFORE_RUN;
  } catch {
    return false;
  }
}

async function requestCount(api: Api): Promise<number | undefined> {
  try {
    const body = (await k6Api(api, "/v1/metrics/http_reqs")) as { data?: { attributes?: { sample?: { count?: number } } } };
    return body.data?.attributes?.sample?.count;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error("aborted"));
    };
    const t = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });

const apis = new WeakMap<RunningClient, Api>();

/** Polls each k6's request counter once a second: k6 prints no progress lines of its own. */
function watchK6(clients: RunningClient[], ctx: WatchContext): () => void {
  const last = new Map<RunningClient, { t: number; count: number }>();
  const timer = setInterval(() => {
    for (const c of clients) {
      const api = apis.get(c);
      if (c.exitCode !== null || api === undefined) continue;
      void requestCount(api).then((count) => {
        if (count === undefined) return;
        const t = Date.now();
        const prev = last.get(c) ?? { t: c.releasedAt ?? t, count: 0 };
        last.set(c, { t, count });
        const dt = (t - prev.t) / 1000;
        if (dt <= 0) return;
        const phase = t < ctx.measureStart ? "warmup" : t < ctx.measureEnd ? "measure" : "drain";
        const rps = Math.round(((count - prev.count) / dt) * 10) / 10;
        ctx.emit({ group: c.spec.group, clientIndex: c.spec.clientIndex, tool: "k6", t, rps, phase });
      });
    }
  }, 1000);
  return () => clearInterval(timer);
}

/**
 * k6 starts --paused with its REST API published on 127.0.0.1 (or a client node's address); once every instance reports that
 * it is initialised, all are resumed together at the common start. Its result is converted from
 * its own output into the contract's shape.
 */
export const k6Driver: LoadDriver = {
  plan(group, client, ctx) {
    const count = group.clients.count;
    const seg = executionSegment(client.clientIndex, count);
    const load = group.load;
    const env: K6Env = {
      TARGET: `http://${ctx.target.host}:${ctx.target.httpPort}`,
      MIX: mixEnv(group.request, "k6"),
      MODEL: load.model,
      DURATION: `${ctx.durationMs}ms`,
      WARMUP: `${ctx.warmupMs}ms`,
      TIMEOUT: `${ctx.timeoutMs}ms`,
      GROUP: group.name,
      CLIENT_INDEX: String(client.clientIndex),
      K6_NO_USAGE_REPORT: "true",
    };
    if (load.model === "open") {
      const pool = k6VuPool(load.rate, count, load.vus);
      Object.assign(env, { RATE: String(load.rate), PRE_ALLOCATED_VUS: String(pool.preAllocated), MAX_VUS: String(pool.max) });
    } else {
      env.VUS = String(load.connections);
    }
    const cmd = [
      "run",
      "--paused",
      "--address",
      `0.0.0.0:${K6_API_PORT}`,
      ...K6_OUTPUT_ARGS,
      ...(process.env[K6_DEBUG_JSON_ENV] === "1" ? K6_DEBUG_JSON_ARGS : []),
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
    ];
    return { image: K6_IMAGE, cmd, env: envRecord(env), apiPort: K6_API_PORT };
  },

  async release(clients, ctx) {
    if (clients.length === 0) return;
    for (const c of clients) apis.set(c, await apiEndpoint(c));
    const readyBy = ctx.startAt + K6_READY_TIMEOUT_MS;
    const pending = new Set(clients);
    while (pending.size && Date.now() < readyBy) {
      for (const c of [...pending]) if (await pausedBeforeRun(apis.get(c) as Api)) pending.delete(c);
      if (pending.size) await sleep(100, ctx.signal);
    }
    if (pending.size)
      throw new Error(
        `k6 not ready within ${K6_READY_TIMEOUT_MS / 1000} s of the start: ${[...pending].map((c) => c.spec.name).join(", ")}`,
      );
    await sleep(ctx.startAt - Date.now(), ctx.signal);
    await Promise.all(
      clients.map(async (c) => {
        await k6Api(apis.get(c) as Api, "/v1/status", {
          method: "PATCH",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify(K6_RESUME_BODY),
        });
        c.releasedAt = Date.now();
      }),
    );
    const late = Math.max(...clients.map((c) => (c.releasedAt as number) - ctx.startAt));
    if (late > LATE_RELEASE_MS) ctx.say(`k6 released ${late} ms after the common start`);
  },

  watch: watchK6,

  async collect(client, ctx) {
    const released = client.releasedAt;
    if (released === undefined) throw new Error("k6 was never released");
    const s = client.spec;
    const result: ClientResult = await readK6Result(s.outDir, {
      group: s.group,
      clientIndex: s.clientIndex,
      loadModel: s.loadModel,
      window: { startedAt: Math.round(released + ctx.warmupMs), endedAt: Math.round(released + ctx.warmupMs + ctx.durationMs) },
      notes: client.exitCode !== 0 ? [`k6 exited with code ${client.exitCode}`] : [],
    });
    // The contract's file, beside k6's own output, so every client folder reads the same way.
    await writeFileAtomic(path.join(s.outDir, RESULT_FILE), JSON.stringify(result));
    return result;
  },
};
