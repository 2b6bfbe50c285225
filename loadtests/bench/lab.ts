import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import { docker } from "../../orchestrator/src/docker/client.js";
import { down, up, type Deployment } from "../../orchestrator/src/docker/compose.js";
import { hardenedHostConfig, HARDENING } from "../../orchestrator/src/docker/hardening.js";
import { cellLabels, clientLabels } from "../../orchestrator/src/docker/labels.js";
import { freePort } from "../../orchestrator/src/docker/ports.js";
import { ContainerSampler, type SampledWindow } from "../../orchestrator/src/docker/sampler.js";
import { projectLabel, runLabel, sweepByLabel } from "../../orchestrator/src/docker/sweep.js";
import { launchFleet } from "../../orchestrator/src/fleet/launch.js";
import type { FleetGroup, FleetTarget } from "../../orchestrator/src/fleet/plan.js";
import { merge, summarise } from "../../orchestrator/src/measure/histogram.js";
import type { HostUsage } from "../../orchestrator/src/measure/host-usage.js";
import { findModel, loadCatalog } from "../../orchestrator/src/models/catalog.js";
import type { Load, RequestMix, Tool } from "../../orchestrator/src/scenario/schema.js";
import { parseWrk } from "./table.js";

/**
 * What the benchmarks share: one bench run (its label, an interrupt that sweeps everything it
 * made, a scratch folder), one deployment of a model behind its own front, and one measurement:
 * a single load client (a lab fleet of one, or wrk) alone against it for a bounded time, with
 * every container of the run sampled over exactly the measured window.
 */

export const WRK_IMAGE = "fiblab/wrk:latest";
/** The lab's client containers have 512 MiB; wrk gets the same. */
const CLIENT_MEMORY = 512 * 1024 * 1024;
/** A client at or above this share of its CPU limit was measuring itself. */
export const AT_LIMIT = 0.9;

const envNumber = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return v;
};

/** Settings every benchmark reads from the environment (seconds, counts). */
export const settings = () => ({
  warmupMs: envNumber("BENCH_WARMUP_S", 2) * 1000,
  durationMs: envNumber("BENCH_DURATION_S", 10) * 1000,
  connections: Math.round(envNumber("BENCH_CONNECTIONS", 16)),
  clientCpus: envNumber("BENCH_CLIENT_CPUS", 1),
});

// ---------------------------------------------------------------- the run

export class BenchRun {
  readonly id: string;
  readonly controller = new AbortController();
  private scratch: string | undefined;
  private deployment: Deployment | undefined;
  private interrupts = 0;

  constructor(name: string) {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "");
    this.id = `${name}-${stamp}-${randomBytes(2).toString("hex")}`;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** SIGINT/SIGTERM: abort what runs (the finally blocks clean up); a second one sweeps and exits. */
  trapSignals(): void {
    const onSignal = (sig: NodeJS.Signals) => {
      this.interrupts += 1;
      if (this.interrupts === 1) {
        process.stderr.write(`\n${sig}: stopping, removing every container of ${this.id} …\n`);
        this.controller.abort(new Error(`interrupted (${sig})`));
        return;
      }
      void sweepByLabel(runLabel(this.id)).finally(() => process.exit(130));
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }

  checkAbort(): void {
    if (this.signal.aborted) throw this.signal.reason ?? new Error("aborted");
  }

  async scratchDir(): Promise<string> {
    this.scratch ??= await mkdtemp(path.join(os.tmpdir(), `fiblab-${this.id}-`));
    return this.scratch;
  }

  /** One model behind its own front, on free host ports, every container labelled with the run. */
  async deploy(model: string, env: Record<string, string>): Promise<Deployment> {
    const manifest = findModel(await loadCatalog(), model);
    const d: Deployment = {
      project: `fiblab-${this.id.toLowerCase().replace(/[^a-z0-9]+/g, "")}`.slice(0, 60),
      model,
      replicas: 1,
      env: { CPUS: "1", FRONT_CPUS: "1", UPSTREAM_KEEPALIVE: manifest.front.upstreamKeepalive ? "32" : "0", ...env },
      httpPort: await freePort(),
      tcpPort: await freePort(),
      labels: cellLabels(this.id),
    };
    this.deployment = d;
    await up(d);
    this.checkAbort();
    return d;
  }

  network(): string {
    if (!this.deployment) throw new Error("nothing deployed");
    return `${this.deployment.project}_lab`;
  }

  /** Compose down, then a sweep by the project and by the run label; the scratch folder goes too. */
  async cleanup(): Promise<void> {
    if (this.deployment) {
      await down(this.deployment).catch(() => undefined);
      await sweepByLabel(projectLabel(this.deployment.project)).catch(() => undefined);
    }
    await sweepByLabel(runLabel(this.id)).catch(() => undefined);
    if (this.scratch) await rm(this.scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- one measurement

/** One client alone against the deployment, over its measured window. */
export interface Measurement {
  tool: Tool | "wrk";
  protocol: "http" | "tcp";
  loadModel: "open" | "closed";
  connections?: number;
  /** Open model: the planned rate, req/s. */
  rate?: number;
  /** host:port the client was aimed at, on the lab network. */
  target: string;
  /** Correct replies per second over the measured window. */
  rps: number;
  /** The measured window, s. */
  seconds: number;
  /** Latency of ok replies (µs, compressed HdrHistogram), where the tool gives one. */
  histogram: string | null;
  ok: number;
  errors: number;
  dropped: number;
  /** ms; null where the tool reports none. */
  p50: number | null;
  p99: number | null;
  max: number | null;
  client: Usage | null;
  model: Usage | null;
  front: Usage | null;
  host?: HostUsage;
  notes: string[];
}

/** CPU of one container (or a role) over the sampled window. */
export interface Usage {
  cpuSeconds: number;
  cores: number | null;
  limit: number | null;
  throttledPct: number | null;
}

function usage(sampled: SampledWindow | undefined, role: "model" | "front" | "client"): Usage | null {
  const mine = sampled?.containers.filter((c) => c.role === role) ?? [];
  if (mine.length === 0) return null;
  const cpuSeconds = mine.reduce((a, c) => a + c.cpuSeconds, 0);
  const cores = mine.every((c) => (c.sampledSeconds ?? 0) > 0)
    ? mine.reduce((a, c) => a + c.cpuSeconds / (c.sampledSeconds as number), 0)
    : null;
  const periods = mine.reduce((a, c) => a + c.totalPeriods, 0);
  const limits = mine.map((c) => c.cpuLimit ?? null);
  return {
    cpuSeconds,
    cores,
    limit: limits.every((l): l is number => l !== null) ? limits.reduce((a, l) => a + l, 0) : null,
    throttledPct: periods > 0 ? (100 * mine.reduce((a, c) => a + c.throttledPeriods, 0)) / periods : null,
  };
}

/** Samples every container of the run between start() and stop(). */
class Window {
  private pending: Promise<ContainerSampler | undefined> | undefined;
  result: SampledWindow | undefined;
  constructor(private readonly runId: string) {}
  start(): void {
    this.pending ??= ContainerSampler.forLabel(runLabel(this.runId)).then(
      async (s) => (await s.start(), s),
      () => undefined,
    );
  }
  async stop(): Promise<SampledWindow | undefined> {
    const s = await this.pending;
    this.pending = undefined;
    if (s && !this.result) this.result = await s.stop();
    return this.result;
  }
}

function atLimitNote(client: Usage | null, what: string): string[] {
  if (!client || client.cores === null || client.limit === null) return [];
  return client.cores >= AT_LIMIT * client.limit
    ? [`${what} used ${client.cores.toFixed(2)} of its ${client.limit} cpu: at its limit, it measured itself`]
    : [];
}

export interface FleetLoad {
  tool: Tool;
  load: Load;
  request: RequestMix;
  target: FleetTarget;
  /** A name for the group (also the client container's name and label). */
  name: string;
}

export const fib = (n: number): RequestMix => [{ text: `fib ${n}`, kind: "fib", arg: n, weight: 1 }];

/**
 * One lab load client (k6, autocannon or the TCP client) through the orchestrator's own fleet
 * launcher, so the figures are what a lab run measures: a fleet of one, one cpu, warm-up then the
 * measured window, every container of the run sampled over that window.
 */
export async function measureFleet(run: BenchRun, l: FleetLoad): Promise<Measurement> {
  const s = settings();
  const group: FleetGroup = { name: l.name, tool: l.tool, load: l.load, request: l.request, clients: { count: 1, cpus: s.clientCpus } };
  const window = new Window(run.id);
  const protocol = l.tool === "tcp" ? "tcp" : "http";
  const log: string[] = [];
  let outcome: Awaited<ReturnType<typeof launchFleet>>;
  try {
    outcome = await launchFleet(
      {
        runId: run.id,
        cellId: l.name,
        network: run.network(),
        outDir: path.join(await run.scratchDir(), l.name),
        groups: [group],
        durationMs: s.durationMs,
        warmupMs: s.warmupMs,
        target: l.target,
        seed: 1,
      },
      {
        signal: run.signal,
        onLog: (source, line) => void (line.trim() && log.push(`${source}: ${line.trim()}`.slice(0, 300))),
        onPhase: (phase) => {
          if (phase === "measure") window.start();
          if (phase === "drain") void window.stop();
        },
      },
    );
  } finally {
    await window.stop();
  }
  run.checkAbort();
  const c = outcome.clients[0];
  if (!c?.result) throw new Error(`${l.name}: no result (${c?.error ?? "no client"}); ${log.slice(-5).join(" | ")}`);
  const r = c.result;
  const seconds = (r.endedAt - r.startedAt) / 1000;
  const lat = summarise(merge([r.histogram]));
  const sampled = window.result;
  const client = usage(sampled, "client");
  const errors = Object.values(r.errors).reduce((a, n) => a + n, 0);
  return {
    tool: l.tool,
    protocol,
    loadModel: l.load.model,
    ...(l.load.model === "closed" ? { connections: l.load.connections } : { rate: l.load.rate }),
    ...(l.load.connections !== undefined ? { connections: l.load.connections } : {}),
    target: `${l.target.host}:${protocol === "tcp" ? l.target.tcpPort : l.target.httpPort}`,
    rps: seconds > 0 ? r.requests.ok / seconds : 0,
    seconds,
    histogram: r.histogram,
    ok: r.requests.ok,
    errors,
    dropped: r.dropped,
    p50: lat?.p50 ?? null,
    p99: lat?.p99 ?? null,
    max: lat?.max ?? null,
    client,
    model: usage(sampled, "model"),
    front: usage(sampled, "front"),
    ...(sampled?.host ? { host: sampled.host } : {}),
    notes: [
      ...atLimitNote(client, l.tool),
      ...(errors ? [`${l.tool}: ${errors} errors ${JSON.stringify(r.errors)}`] : []),
      ...(r.dropped ? [`${l.tool}: ${r.dropped} arrivals dropped`] : []),
      ...(c.error ? [`${l.tool}: ${c.error}`] : []),
      ...r.notes.map((n) => (n.startsWith(`${l.tool}:`) ? n : `${l.tool}: ${n}`)),
    ],
  };
}

const MARK_MEASURE = "fiblab-bench: measure";
const MARK_DONE = "fiblab-bench: done";

/**
 * wrk (Debian's package) as one more container on the lab network, with the same CPU and memory
 * limits and hardening as the lab's clients: a warm-up run, then the measured run with
 * --latency; the container is sampled from the mark before the measured run to the mark after it
 * (then it idles a moment, so its counters are read before it exits). wrk checks the status only,
 * not the body, and its latency runs from the actual send (closed model).
 */
export async function measureWrk(run: BenchRun, url: string, name = "wrk"): Promise<Measurement> {
  const s = settings();
  const threads = Math.max(1, Math.round(s.clientCpus));
  const wrk = (secs: number, extra: string) => `wrk -t${threads} -c${s.connections} -d${secs}s ${extra} ${url}`;
  const script = [
    `${wrk(Math.max(1, Math.round(s.warmupMs / 1000)), "")} >/dev/null`,
    `echo '${MARK_MEASURE}'`,
    wrk(Math.round(s.durationMs / 1000), "--latency"),
    `echo '${MARK_DONE}'`,
    "sleep 3",
  ].join(" && ");
  const container = await docker.createContainer({
    name: `fiblab-${run.id}-${name}-${randomBytes(2).toString("hex")}`,
    Image: WRK_IMAGE,
    User: HARDENING.user,
    Entrypoint: ["/bin/sh", "-c"],
    Cmd: [script],
    Labels: { ...cellLabels(run.id, name), ...clientLabels(name, 0) },
    HostConfig: {
      ...hardenedHostConfig(),
      NanoCpus: Math.round(s.clientCpus * 1e9),
      Memory: CLIENT_MEMORY,
      MemorySwap: CLIENT_MEMORY,
      PidsLimit: 64,
      NetworkMode: run.network(),
    },
  });
  const window = new Window(run.id);
  const output: string[] = [];
  const kill = () => void container.kill().catch(() => undefined);
  run.signal.addEventListener("abort", kill, { once: true });
  const hardTimeout = setTimeout(kill, s.warmupMs + s.durationMs + 60_000);
  try {
    await container.start();
    const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
    const out = new PassThrough();
    docker.modem.demuxStream(stream, out, out);
    stream.on("end", () => out.end());
    for await (const line of createInterface({ input: out, crlfDelay: Infinity })) {
      if (line === MARK_MEASURE) window.start();
      else if (line === MARK_DONE) await window.stop();
      else output.push(line);
    }
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    run.checkAbort();
    if (StatusCode !== 0) throw new Error(`wrk exited with code ${StatusCode}:\n${output.join("\n")}`);
  } finally {
    clearTimeout(hardTimeout);
    run.signal.removeEventListener("abort", kill);
    await window.stop();
    await container.remove({ force: true }).catch(() => undefined);
  }
  const f = parseWrk(output.join("\n"));
  const sampled = window.result;
  const client = usage(sampled, "client");
  const errors = f.non2xx + f.socketErrors;
  return {
    tool: "wrk",
    protocol: "http",
    loadModel: "closed",
    connections: s.connections,
    target: url.replace(/^http:\/\//, "").replace(/\/.*/, ""),
    // wrk counts every reply; the non-2xx ones are taken out so the figure is correct replies.
    rps: f.seconds > 0 ? (f.requests - f.non2xx) / f.seconds : f.rps,
    seconds: f.seconds,
    histogram: null,
    ok: f.requests - f.non2xx,
    errors,
    dropped: 0,
    p50: f.p50,
    p99: f.p99,
    max: f.max,
    client,
    model: usage(sampled, "model"),
    front: usage(sampled, "front"),
    ...(sampled?.host ? { host: sampled.host } : {}),
    notes: [...atLimitNote(client, "wrk"), ...(errors ? [`wrk: ${f.non2xx} non-2xx replies, ${f.socketErrors} socket errors`] : [])],
  };
}

/** One line on the machine over a measurement: its busy cores, what the run's containers used. */
export function hostLine(m: Measurement): string | undefined {
  const h = m.host;
  if (!h) return undefined;
  return `host ${h.busyCores.toFixed(2)}/${h.cores} cores busy, this run's containers ${h.cellCores.toFixed(2)}, elsewhere ${h.elsewhereCores.toFixed(2)}`;
}

/** Runs one measurement; a failure (not an interrupt) becomes a row of its own that says why. */
export async function measured(what: string, step: () => Promise<Measurement>, run: BenchRun): Promise<Measurement> {
  try {
    return await step();
  } catch (e) {
    run.checkAbort();
    const [tool = "wrk", model = "closed"] = what.split(" ");
    return {
      tool: tool as Measurement["tool"],
      protocol: tool === "tcp" ? "tcp" : "http",
      loadModel: model === "open" ? "open" : "closed",
      target: "",
      rps: NaN,
      seconds: 0,
      histogram: null,
      ok: 0,
      errors: 0,
      dropped: 0,
      p50: null,
      p99: null,
      max: null,
      client: null,
      model: null,
      front: null,
      notes: [`${what} failed: ${(e as Error).message}`.slice(0, 1500)],
    };
  }
}

/**
 * Repeats of one measurement as one: requests and time summed, latency from the merged histograms
 * (never averaged percentiles), CPU seconds summed and cores averaged, the machine averaged.
 */
export function combine(ms: Measurement[]): Measurement {
  const ok = ms.filter((m) => Number.isFinite(m.rps));
  const first = ms[0];
  if (!first) throw new Error("nothing to combine");
  if (ok.length <= 1) return { ...(ok[0] ?? first), notes: [...new Set(ms.flatMap((m) => m.notes))] };
  const sum = (f: (m: Measurement) => number) => ok.reduce((a, m) => a + f(m), 0);
  const mean = (xs: (number | null | undefined)[]) => {
    const v = xs.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
    return v.length ? v.reduce((a, x) => a + x, 0) / v.length : null;
  };
  const use = (role: "client" | "model" | "front"): Usage | null => {
    const us = ok.map((m) => m[role]).filter((u): u is Usage => u !== null);
    if (us.length === 0) return null;
    return {
      cpuSeconds: us.reduce((a, u) => a + u.cpuSeconds, 0),
      cores: mean(us.map((u) => u.cores)),
      limit: us[0]?.limit ?? null,
      throttledPct: mean(us.map((u) => u.throttledPct)),
    };
  };
  const hists = ok.map((m) => m.histogram).filter((h): h is string => h !== null);
  const lat = hists.length === ok.length ? summarise(merge(hists)) : null;
  const hosts = ok.map((m) => m.host).filter((h): h is HostUsage => h !== undefined);
  const seconds = sum((m) => m.seconds);
  const base = ok[0] as Measurement;
  return {
    ...base,
    rps: seconds > 0 ? sum((m) => m.ok) / seconds : (mean(ok.map((m) => m.rps)) ?? NaN),
    seconds,
    histogram: null,
    ok: sum((m) => m.ok),
    errors: sum((m) => m.errors),
    dropped: sum((m) => m.dropped),
    p50: lat ? lat.p50 : mean(ok.map((m) => m.p50)),
    p99: lat ? lat.p99 : mean(ok.map((m) => m.p99)),
    max: lat ? lat.max : Math.max(...ok.map((m) => m.max ?? 0)),
    client: use("client"),
    model: use("model"),
    front: use("front"),
    ...(hosts.length === ok.length && hosts[0]
      ? {
          host: {
            ...hosts[0],
            windowMs: hosts.reduce((a, h) => a + h.windowMs, 0),
            busyCores: mean(hosts.map((h) => h.busyCores)) ?? 0,
            cellCores: mean(hosts.map((h) => h.cellCores)) ?? 0,
            orchestratorCores: mean(hosts.map((h) => h.orchestratorCores)) ?? 0,
            elsewhereCores: mean(hosts.map((h) => h.elsewhereCores)) ?? 0,
          },
        }
      : {}),
    notes: [...new Set(ms.flatMap((m) => m.notes))],
  };
}
