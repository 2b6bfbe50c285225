import { chmod, mkdir, readFile, writeFile, rename } from "node:fs/promises";
import { createWriteStream, type WriteStream } from "node:fs";
import path from "node:path";
import { PassThrough } from "node:stream";
import { createInterface } from "node:readline";
import Docker from "dockerode";
import { ClientResultSchema, type ClientResult } from "../../../loadtests/contract/result.js";
import type { Tool } from "../scenario/schema.js";
import { parseK6Output } from "./k6-result.js";
import {
  hardTimeoutMs,
  K6_OUTPUT,
  K6_RESUME_BODY,
  K6_STATUS_PAUSED_BEFORE_RUN,
  planFleet,
  RESULT_FILE,
  type ClientSpec,
  type FleetSpec,
} from "./plan.js";

/**
 * Launching one cell's fleet of load-client containers with dockerode: create one container per
 * client (CPU and memory limits, the lab network, its own output folder at /out), start them all,
 * release them together at one start time (the Node clients sleep until START_AT; k6 instances
 * start --paused and are resumed through their REST API, published on 127.0.0.1 only), stream
 * their progress, wait with a hard timeout, collect a validated ClientResult from each, and
 * remove the containers. Raw outputs stay in the output folders.
 */

/** One live progress sample of one client (about once a second). */
export interface ClientProgress {
  group: string;
  clientIndex: number;
  tool: Tool;
  /** Epoch ms. */
  t: number;
  /** Replies per second over the last interval (all phases). */
  rps: number;
  phase?: string;
  sent?: number;
  ok?: number;
  errors?: number;
  dropped?: number;
}

export interface ClientOutcome {
  group: string;
  clientIndex: number;
  tool: Tool;
  container: string;
  outDir: string;
  exitCode: number | null;
  /** k6: when it was released (epoch ms); Node clients: the START_AT they were given. */
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

export type FleetPhase = "start" | "warmup" | "measure" | "drain" | "done";

interface Running {
  spec: ClientSpec;
  container: Docker.Container;
  log: WriteStream;
  hostApiPort?: number;
  releasedAt?: number;
  exitCode: number | null;
  error?: string;
  lastCount?: { t: number; count: number };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error("aborted"));
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, Math.max(0, ms));
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error("aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });

async function k6Api(port: number, pathname: string, init?: RequestInit): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}${pathname}`, { ...init, signal: AbortSignal.timeout(2000) });
  if (!res.ok) throw new Error(`k6 API ${pathname}: HTTP ${res.status}`);
  return res.json();
}

async function k6Ready(port: number): Promise<boolean> {
  try {
    const body = (await k6Api(port, "/v1/status")) as { data?: { attributes?: { status?: number; paused?: boolean } } };
    const a = body.data?.attributes;
    return a?.paused === true && a.status === K6_STATUS_PAUSED_BEFORE_RUN;
  } catch {
    return false;
  }
}

async function k6Resume(port: number): Promise<void> {
  await k6Api(port, "/v1/status", {
    method: "PATCH",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(K6_RESUME_BODY),
  });
}

async function k6RequestCount(port: number): Promise<number | undefined> {
  try {
    const body = (await k6Api(port, "/v1/metrics/http_reqs")) as { data?: { attributes?: { sample?: { count?: number } } } };
    return body.data?.attributes?.sample?.count;
  } catch {
    return undefined;
  }
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(value));
  await rename(tmp, file);
}

function createOptions(spec: ClientSpec, network: string): Docker.ContainerCreateOptions {
  const apiPort = spec.apiPort ? `${spec.apiPort}/tcp` : undefined;
  return {
    name: spec.name,
    Image: spec.image,
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: spec.labels,
    ...(apiPort ? { ExposedPorts: { [apiPort]: {} } } : {}),
    HostConfig: {
      NanoCpus: spec.nanoCpus,
      Memory: spec.memoryBytes,
      MemorySwap: spec.memoryBytes,
      PidsLimit: 512,
      NetworkMode: network,
      Binds: [`${spec.outDir}:/out`],
      AutoRemove: false,
      ReadonlyRootfs: true,
      Tmpfs: { "/tmp": "size=64m" },
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges:true"],
      ...(apiPort ? { PortBindings: { [apiPort]: [{ HostIp: "127.0.0.1", HostPort: "" }] } } : {}),
    },
  };
}

/** Streams a container's output: JSON progress lines to onProgress, everything to its log file. */
async function follow(docker: Docker, r: Running, hooks: LaunchHooks): Promise<void> {
  const stream = (await r.container.logs({ follow: true, stdout: true, stderr: true })) as NodeJS.ReadableStream;
  const out = new PassThrough();
  const err = new PassThrough();
  docker.modem.demuxStream(stream, out, err);
  stream.on("end", () => {
    out.end();
    err.end();
  });
  const source = `${r.spec.group}-${r.spec.clientIndex}`;
  const lines = (input: PassThrough, kind: "stdout" | "stderr") =>
    new Promise<void>((resolve) => {
      const rl = createInterface({ input, crlfDelay: Infinity });
      rl.on("line", (line) => {
        if (!r.log.writableEnded) r.log.write(`${kind === "stderr" ? "! " : ""}${line}\n`);
        if (kind === "stdout" && line.startsWith("{")) {
          try {
            const p = JSON.parse(line) as Record<string, unknown>;
            if (typeof p.t === "number" && typeof p.rps === "number") {
              hooks.onProgress?.({
                group: r.spec.group,
                clientIndex: r.spec.clientIndex,
                tool: r.spec.tool,
                t: p.t,
                rps: p.rps,
                ...(typeof p.phase === "string" ? { phase: p.phase } : {}),
                ...(typeof p.sent === "number" ? { sent: p.sent } : {}),
                ...(typeof p.ok === "number" ? { ok: p.ok } : {}),
                ...(typeof p.errors === "number" ? { errors: p.errors } : {}),
                ...(typeof p.dropped === "number" ? { dropped: p.dropped } : {}),
              });
              return;
            }
          } catch {
            // not a progress line
          }
        }
        hooks.onLog?.(source, line);
      });
      rl.on("close", resolve);
    });
  await Promise.all([lines(out, "stdout"), lines(err, "stderr")]);
}

async function collect(r: Running, spec: FleetSpec): Promise<ClientResult> {
  const s = r.spec;
  if (s.tool === "k6") {
    const released = r.releasedAt;
    if (released === undefined) throw new Error("k6 was never released");
    const result = await parseK6Output(path.join(s.outDir, K6_OUTPUT), {
      group: s.group,
      clientIndex: s.clientIndex,
      loadModel: s.loadModel,
      window: { startedAt: Math.round(released + spec.warmupMs), endedAt: Math.round(released + spec.warmupMs + spec.durationMs) },
      notes: r.exitCode !== 0 ? [`k6 exited with code ${r.exitCode}`] : [],
    });
    await writeJsonAtomically(path.join(s.outDir, RESULT_FILE), result);
    return result;
  }
  const text = await readFile(path.join(s.outDir, RESULT_FILE), "utf8");
  return ClientResultSchema.parse(JSON.parse(text));
}

/** Runs one cell's fleet to its end; see the module comment. Containers are removed in every case. */
export async function launchFleet(spec: FleetSpec, hooks: LaunchHooks = {}, docker: Docker = new Docker()): Promise<FleetOutcome> {
  const say = (line: string) => hooks.onLog?.("fleet", line);
  const startAt = Date.now() + (spec.startDelayMs ?? 4000);
  const deadline = Date.now() + hardTimeoutMs(spec);
  const uniq = Math.random().toString(36).slice(2, 6);
  const plan = planFleet(spec, startAt, uniq);
  const running: Running[] = [];
  const follows: Promise<void>[] = [];
  let progressTimer: NodeJS.Timeout | undefined;
  const phaseTimers: NodeJS.Timeout[] = [];
  const measureStart = startAt + spec.warmupMs;
  const measureEnd = measureStart + spec.durationMs;
  try {
    await mkdir(spec.outDir, { recursive: true });
    for (const s of plan) {
      await mkdir(s.outDir, { recursive: true });
      // The clients run as uid 10001; the folder is theirs to write.
      await chmod(s.outDir, 0o777);
    }
    for (const s of plan) {
      const container = await docker.createContainer(createOptions(s, spec.network));
      running.push({ spec: s, container, log: createWriteStream(path.join(s.outDir, "client.log")), exitCode: null });
    }
    await Promise.all(running.map((r) => r.container.start()));
    for (const r of running) follows.push(follow(docker, r, hooks).catch((e: Error) => say(`log stream of ${r.spec.name}: ${e.message}`)));
    if (hooks.onPhase) {
      const onPhase = hooks.onPhase;
      onPhase("start", Date.now(), Math.max(0, startAt - Date.now()));
      const at = (t: number, phase: FleetPhase, durationMs?: number) =>
        phaseTimers.push(setTimeout(() => onPhase(phase, Date.now(), durationMs), Math.max(0, t - Date.now())));
      if (spec.warmupMs > 0) at(startAt, "warmup", spec.warmupMs);
      at(measureStart, "measure", spec.durationMs);
      at(measureEnd, "drain");
    }

    // k6: find the published API ports, wait until each has initialised, release all at startAt.
    const k6 = running.filter((r) => r.spec.apiPort);
    for (const r of k6) {
      const info = await r.container.inspect();
      const binding = info.NetworkSettings.Ports?.[`${r.spec.apiPort}/tcp`]?.[0];
      if (!binding) throw new Error(`${r.spec.name}: k6 API port was not published`);
      r.hostApiPort = Number(binding.HostPort);
    }
    if (k6.length) {
      const readyBy = startAt + 60_000;
      const pending = new Set(k6);
      while (pending.size && Date.now() < readyBy) {
        for (const r of [...pending]) if (await k6Ready(r.hostApiPort as number)) pending.delete(r);
        if (pending.size) await sleep(100, hooks.signal);
      }
      if (pending.size) throw new Error(`k6 not ready within 60 s of the start: ${[...pending].map((r) => r.spec.name).join(", ")}`);
      await sleep(startAt - Date.now(), hooks.signal);
      await Promise.all(
        k6.map(async (r) => {
          await k6Resume(r.hostApiPort as number);
          r.releasedAt = Date.now();
        }),
      );
      const late = Math.max(...k6.map((r) => (r.releasedAt as number) - startAt));
      if (late > 200) say(`k6 released ${late} ms after the common start`);
      progressTimer = setInterval(() => {
        for (const r of k6) {
          if (r.exitCode !== null || !r.hostApiPort) continue;
          void k6RequestCount(r.hostApiPort).then((count) => {
            if (count === undefined) return;
            const t = Date.now();
            const prev = r.lastCount ?? { t: r.releasedAt ?? t, count: 0 };
            r.lastCount = { t, count };
            const dt = (t - prev.t) / 1000;
            if (dt <= 0) return;
            const phase = t < startAt + spec.warmupMs ? "warmup" : t < startAt + spec.warmupMs + spec.durationMs ? "measure" : "drain";
            hooks.onProgress?.({
              group: r.spec.group,
              clientIndex: r.spec.clientIndex,
              tool: "k6",
              t,
              rps: Math.round(((count - prev.count) / dt) * 10) / 10,
              phase,
            });
          });
        }
      }, 1000);
    }

    // Wait for every client to exit, killing what outlives the hard timeout.
    await Promise.all(
      running.map(async (r) => {
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<"timeout">((resolve) => {
          timer = setTimeout(() => resolve("timeout"), Math.max(0, deadline - Date.now()));
        });
        const aborted = new Promise<"aborted">((resolve) => {
          if (hooks.signal?.aborted) resolve("aborted");
          hooks.signal?.addEventListener("abort", () => resolve("aborted"), { once: true });
        });
        const outcome = await Promise.race([r.container.wait() as Promise<{ StatusCode: number }>, timedOut, aborted]);
        clearTimeout(timer);
        if (outcome === "timeout" || outcome === "aborted") {
          r.error = outcome === "timeout" ? `killed: still running at the hard timeout (${hardTimeoutMs(spec)} ms)` : "aborted";
          await r.container.kill().catch(() => undefined);
          const w = (await r.container.wait().catch(() => ({ StatusCode: -1 }))) as { StatusCode: number };
          r.exitCode = w.StatusCode;
        } else {
          r.exitCode = outcome.StatusCode;
        }
      }),
    );
    if (hooks.signal?.aborted) throw hooks.signal.reason ?? new Error("aborted");
    if (progressTimer) clearInterval(progressTimer);
    await Promise.race([Promise.all(follows), sleep(2000)]);

    const clients: ClientOutcome[] = [];
    for (const r of running) {
      const s = r.spec;
      const o: ClientOutcome = {
        group: s.group,
        clientIndex: s.clientIndex,
        tool: s.tool,
        container: s.name,
        outDir: s.outDir,
        exitCode: r.exitCode,
        startedAt: r.releasedAt ?? startAt,
      };
      try {
        o.result = await collect(r, spec);
        if (r.error) o.error = r.error;
        else if (r.exitCode !== 0) o.error = `exited with code ${r.exitCode}`;
      } catch (e) {
        o.error = [r.error, r.exitCode !== 0 ? `exited with code ${r.exitCode}` : undefined, `no result: ${(e as Error).message}`]
          .filter(Boolean)
          .join("; ");
      }
      clients.push(o);
    }
    hooks.onPhase?.("done", Date.now());
    return { startAt, window: { measureStart, measureEnd }, clients, ok: clients.every((c) => c.result && !c.error) };
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    for (const t of phaseTimers) clearTimeout(t);
    await Promise.all(running.map((r) => r.container.remove({ force: true, v: true }).catch(() => undefined)));
    for (const r of running) r.log.end();
  }
}

/** Removes every container labelled fiblab.run=<runId> (optionally only one role); returns how many. */
export async function removeRunContainers(runId: string, opts: { role?: string; docker?: Docker } = {}): Promise<number> {
  const docker = opts.docker ?? new Docker();
  const label = [`fiblab.run=${runId}`];
  if (opts.role) label.push(`fiblab.role=${opts.role}`);
  const list = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(list.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  return list.length;
}
