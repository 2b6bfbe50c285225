import { readFile } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { PassThrough } from "node:stream";
import { docker } from "../docker/client.js";
import { scale, type Deployment } from "../docker/compose.js";
import { hardenedHostConfig } from "../docker/hardening.js";
import { LABEL } from "../docker/labels.js";
import { liveAddresses, servingConnections } from "../events/drain.js";
import type { EventRecord } from "../events/record.js";
import { parseTop, pickWorker, planEvent, workerProcesses, type EventPlan, type HostProcess } from "../events/plan.js";
import { eventAtMs, type EventSpec } from "../events/spec.js";
import type { Manifest } from "../models/manifest.js";
import type { Topology } from "../scenario/schema.js";

/**
 * The scripted events of one cell, carried out while its load runs: each at measurement start +
 * its `at`, each producing an EventRecord. An event that fails records its error and the run goes
 * on; every event is bounded in time (at the latest the window's end + EVENT_GRACE_MS).
 */

/** How long after the window's end an event may still be finishing. */
export const EVENT_GRACE_MS = 20_000;
const POLL_MS = 100;

export interface CellEventsInput {
  events: readonly EventSpec[];
  deployment: Deployment;
  manifest: Manifest;
  topology: Topology;
  /** Labels for containers the events create (the noise burner): the run's and the cell's. */
  labels: Record<string, string>;
  /** The measured window's length, ms. */
  durationMs: number;
  onLog?(line: string): void;
}

/** The running schedule: `done` resolves to one record per event, in the events' order. */
export interface ScheduledEvents {
  done: Promise<EventRecord[]>;
  /** Stop waiting: events not yet started are recorded as cancelled, running ones are cut. */
  cancel(reason: string): void;
}

/** What an action hands back; the scheduler adds index, action and times. */
type Outcome = Omit<EventRecord, "index" | "action" | "plannedAt" | "startedAt" | "endedAt"> & { endedAt?: number };

/** An action's context: its deadline, and a signal that fires when it is cut. */
interface Act {
  input: CellEventsInput;
  deadline: number;
  signal: AbortSignal;
  measureEnd: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Schedules every event of a cell from the measurement start (epoch ms). */
export function scheduleEvents(input: CellEventsInput, measureStart: number): ScheduledEvents {
  const cut = new AbortController();
  const measureEnd = measureStart + input.durationMs;
  const deadline = measureEnd + EVENT_GRACE_MS;
  const bound = setTimeout(() => cut.abort(new Error("cut at the window's end + grace")), Math.max(0, deadline - Date.now()));
  const act: Act = { input, deadline, signal: cut.signal, measureEnd };
  const done = Promise.all(input.events.map((e, index) => runOne(e, index, measureStart + eventAtMs(e), act))).finally(() =>
    clearTimeout(bound),
  );
  return { done, cancel: (reason) => cut.abort(new Error(reason)) };
}

async function runOne(e: EventSpec, index: number, plannedAt: number, act: Act): Promise<EventRecord> {
  await sleep(plannedAt - Date.now(), act.signal);
  const startedAt = Date.now();
  const base = { index, action: e.action, plannedAt, startedAt };
  if (act.signal.aborted) {
    return { ...base, endedAt: startedAt, detail: "not carried out", error: `cancelled before it started: ${reason(act.signal)}` };
  }
  const { input } = act;
  const t = input.topology;
  const r = planEvent(e, input.manifest, t, e.action === "noise" ? eventAtMs({ at: e.duration }) : 0);
  try {
    if (!r.ok) throw new Error(`${r.field}: ${r.reason}`);
    const outcome = await Promise.race([carryOut(r.plan, act), aborted(act.signal)]);
    const record = { ...base, ...outcome, endedAt: outcome.endedAt ?? Date.now() };
    input.onLog?.(`event ${index} ${e.action}: ${record.detail}`);
    return record;
  } catch (err) {
    const message = (err as Error).message;
    input.onLog?.(`event ${index} ${e.action} failed: ${message}`);
    return { ...base, endedAt: Date.now(), detail: `${e.action} failed`, error: message };
  }
}

function reason(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? "aborted");
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    const fail = () => reject(new Error(reason(signal)));
    if (signal.aborted) fail();
    else signal.addEventListener("abort", fail, { once: true });
  });
}

function carryOut(plan: EventPlan, act: Act): Promise<Outcome> {
  switch (plan.action) {
    case "kill-worker":
      return killWorker(plan, act);
    case "kill-container":
      return killContainer(plan, act);
    case "remove-container":
      return removeContainer(plan, act);
    case "rolling-restart":
      return plan.what === "workers" ? rollWorkers(plan.signal, act) : rollReplicas(act);
    case "scale":
      return plan.what === "workers" ? scaleWorkers(plan, act) : scaleReplicas(plan, act);
    case "hang":
      return hang(plan, act);
    case "noise":
      return noise(plan, act);
  }
}

// ---------------------------------------------------------------- containers and processes

interface Replica {
  id: string;
  name: string;
  number: number;
  ip: string | undefined;
}

/** The model's running replicas in compose's numbering order. */
async function replicas(d: Deployment): Promise<Replica[]> {
  const list = await docker.listContainers({
    filters: { label: [`${LABEL.composeProject}=${d.project}`, `${LABEL.role}=model`] },
  });
  return list
    .map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? c.Id).replace(/^\//, ""),
      number: Number(c.Labels["com.docker.compose.container-number"] ?? 0),
      ip: Object.values(c.NetworkSettings?.Networks ?? {})[0]?.IPAddress || undefined,
    }))
    .sort((a, b) => a.number - b.number);
}

async function replicaAt(d: Deployment, index: number): Promise<Replica> {
  const all = await replicas(d);
  const r = all[index];
  if (!r) throw new Error(`replica ${index} is not running (${all.length} running)`);
  return r;
}

interface ContainerState {
  mainPid: number;
  hostname: string;
  restarts: number;
  running: boolean;
}

async function stateOf(id: string): Promise<ContainerState> {
  const info = await docker.getContainer(id).inspect();
  return { mainPid: info.State.Pid, hostname: info.Config.Hostname, restarts: info.RestartCount, running: info.State.Running };
}

async function processesOf(id: string): Promise<HostProcess[]> {
  return parseTop(await docker.getContainer(id).top());
}

/** The pid a host process has inside its container (the last NSpid), as X-Worker shows it. */
async function containerPid(hostPid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${hostPid}/status`, "utf8").catch(() => "");
  const ns = /^NSpid:\s*(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/);
  return ns ? Number(ns[ns.length - 1]) : undefined;
}

/** "hostname/pid", the X-Worker prefix of a host process. */
async function xWorkerOf(hostname: string, hostPid: number): Promise<string | undefined> {
  const pid = await containerPid(hostPid);
  return pid === undefined ? undefined : `${hostname}/${pid}`;
}

/** Polls until the check returns a value, or the deadline passes (undefined). */
async function until<T>(check: () => Promise<T | undefined>, act: Act, deadline = act.deadline): Promise<T | undefined> {
  while (Date.now() < deadline && !act.signal.aborted) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    await sleep(POLL_MS, act.signal);
  }
  return undefined;
}

/** Signals from the host: killing a container's main process this way lets its restart policy apply. */
function signalHost(pid: number, signal: string): void {
  process.kill(pid, `SIG${signal}` as NodeJS.Signals);
}

// ---------------------------------------------------------------- kill-worker, kill-container, remove-container

async function killWorker(plan: Extract<EventPlan, { action: "kill-worker" }>, act: Act): Promise<Outcome> {
  const { deployment: d, manifest } = act.input;
  const helpers = manifest.events.helperProcesses;
  const r = await replicaAt(d, plan.replica);
  const state = await stateOf(r.id);
  const procs = await processesOf(r.id);
  const victim = pickWorker(procs, state.mainPid, plan.process, helpers);
  if (!victim) throw new Error(`no worker process in ${r.name}`);
  const worker = await xWorkerOf(state.hostname, victim.pid);
  const before = new Set(workerProcesses(procs, state.mainPid, plan.process, helpers).map((p) => p.pid));
  signalHost(victim.pid, plan.signal);
  const endedAt = Date.now();
  const target = `${plan.process === "main" ? "main process" : "worker"} ${worker ?? "?"} (host pid ${victim.pid}) in ${r.name}`;
  if (plan.process === "main") {
    const back = await until(async () => {
      const s = await stateOf(r.id);
      return s.running && s.restarts > state.restarts ? Date.now() : undefined;
    }, act);
    const detail = `SIG${plan.signal} to the main process (it serves): ${back ? `the restart policy brought the container back after ${back - endedAt} ms` : "the container did not come back"}`;
    return { target, detail, endedAt, recoveredAt: back ?? null, ...(worker ? { worker } : {}) };
  }
  const fresh = await until(async () => {
    const now = workerProcesses(await processesOf(r.id), state.mainPid, "children", helpers);
    const added = now.filter((p) => !before.has(p.pid));
    return now.length >= before.size && added.length > 0 ? { at: Date.now(), pid: added[0]!.pid } : undefined;
  }, act);
  const replacement = fresh ? await xWorkerOf(state.hostname, fresh.pid) : undefined;
  const detail = `SIG${plan.signal} to one worker: ${fresh ? `the master had ${replacement ?? "a new worker"} in its place after ${fresh.at - endedAt} ms` : "no replacement appeared"}`;
  return {
    target,
    detail,
    endedAt,
    recoveredAt: fresh?.at ?? null,
    ...(worker ? { worker } : {}),
    ...(replacement ? { replacement } : {}),
  };
}

async function killContainer(plan: Extract<EventPlan, { action: "kill-container" }>, act: Act): Promise<Outcome> {
  const r = await replicaAt(act.input.deployment, plan.replica);
  const state = await stateOf(r.id);
  // The main process killed from the host, as a crash would: `docker kill` would count as a manual
  // stop, after which Docker ignores the restart policy.
  signalHost(state.mainPid, "KILL");
  const endedAt = Date.now();
  const policy = act.input.topology.restart ?? "on-failure";
  const back = await until(
    async () => {
      const s = await stateOf(r.id);
      return s.running && s.restarts > state.restarts ? { at: Date.now(), restarts: s.restarts } : undefined;
    },
    act,
    policy === "no" ? Math.min(act.deadline, Date.now() + 3000) : act.deadline,
  );
  const detail = `SIGKILL to the main process (host pid ${state.mainPid}) of ${r.name}, restart policy ${policy}: ${back ? `running again after ${back.at - endedAt} ms (restart count ${back.restarts})` : "not restarted"}`;
  return { target: r.name, detail, endedAt, recoveredAt: back?.at ?? null, ...(back ? { restartCount: back.restarts } : {}) };
}

async function removeContainer(plan: Extract<EventPlan, { action: "remove-container" }>, act: Act): Promise<Outcome> {
  const r = await replicaAt(act.input.deployment, plan.replica);
  await docker.getContainer(r.id).remove({ force: true, v: true });
  return { target: r.name, detail: `removed ${r.name} (docker rm -f): nothing restarts it` };
}

// ---------------------------------------------------------------- rolling restart

/** In-process: the master's signal to every replica in turn, each done when no old worker is left. */
async function rollWorkers(signal: string, act: Act): Promise<Outcome> {
  const { deployment: d, manifest } = act.input;
  const helpers = manifest.events.helperProcesses;
  const notes: string[] = [];
  for (const r of await replicas(d)) {
    const state = await stateOf(r.id);
    const before = workerProcesses(await processesOf(r.id), state.mainPid, "children", helpers);
    const old = new Set(before.map((p) => p.pid));
    const t0 = Date.now();
    signalHost(state.mainPid, signal);
    const done = await until(async () => {
      const now = workerProcesses(await processesOf(r.id), state.mainPid, "children", helpers);
      // Every old worker gone, new ones in their place (a master may come back to its configured
      // count: gunicorn's HUP re-reads WORKERS, undoing a TTIN).
      return now.length > 0 && now.every((p) => !old.has(p.pid)) ? { at: Date.now(), count: now.length } : undefined;
    }, act);
    if (done === undefined) throw new Error(`${r.name}: old workers still there when the event was cut (SIG${signal})`);
    // A master that stops each old worker before starting its replacement (uvicorn) may still be
    // starting the last one: count again once the number has held for a moment.
    const count = await settledCount(async () => workerProcesses(await processesOf(r.id), state.mainPid, "children", helpers).length, act);
    notes.push(`${r.name}: ${before.length} workers replaced by ${count ?? done.count} in ${done.at - t0} ms`);
  }
  return { target: d.model, detail: `SIG${signal} to the master: ${notes.join("; ")}` };
}

/** A count once it has stayed the same for SETTLE_MS (at most 5 s). */
async function settledCount(count: () => Promise<number>, act: Act): Promise<number | undefined> {
  const SETTLE_MS = 700;
  let last = await count().catch(() => undefined);
  let since = Date.now();
  const deadline = Math.min(act.deadline, Date.now() + 5000);
  while (Date.now() < deadline && !act.signal.aborted) {
    await sleep(POLL_MS, act.signal);
    const now = await count().catch(() => undefined);
    if (now !== last) [last, since] = [now, Date.now()];
    else if (Date.now() - since >= SETTLE_MS) break;
  }
  return last;
}

/** Runs a command in a container and returns its standard output. */
async function execText(id: string, cmd: string[]): Promise<string> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  docker.modem.demuxStream(stream, out, new PassThrough());
  await new Promise((resolve) => stream.on("end", resolve));
  return Buffer.concat(chunks).toString("utf8");
}

async function frontContainer(d: Deployment): Promise<string> {
  const [front] = await docker.listContainers({ filters: { label: [`${LABEL.composeProject}=${d.project}`, `${LABEL.role}=front`] } });
  if (!front) throw new Error("the front is not running");
  return front.Id;
}

/** The addresses nginx in the front runs with (front-entrypoint writes them once a reload took). */
async function frontLive(front: string): Promise<string[]> {
  return liveAddresses(await execText(front, ["cat", "/tmp/nginx/live"]));
}

/** Until the front runs with the address and a probe through it reaches the hostname. */
async function waitFrontServes(d: Deployment, address: string | undefined, hostname: string, act: Act): Promise<number | undefined> {
  const front = await frontContainer(d);
  if (address) await until(async () => ((await frontLive(front)).includes(address) ? true : undefined), act);
  return probeUntil(d, act, (w) => w.startsWith(`${hostname}/`));
}

/** How long a replica out of the front may take to finish its in-flight requests. */
const DRAIN_MS = 5000;
/** SIGTERM, then SIGKILL after this long: compose's stop_grace_period for the models. */
const STOP_GRACE_S = 5;

/** Out of the front: until nginx runs without the address (at most 10 s); when, epoch ms. */
async function outOfFront(front: string, address: string, act: Act): Promise<number | undefined> {
  await execText(front, ["front-drain", "add", address]);
  const bound = Math.min(act.deadline, Date.now() + 10_000);
  return until(
    async () => {
      const live = await frontLive(front);
      return live.length > 0 && !live.includes(address) ? Date.now() : undefined;
    },
    act,
    bound,
  );
}

/** Until the replica has no client connection left, at most DRAIN_MS; the count left then. */
async function drain(hostPid: number, act: Act): Promise<number> {
  const count = async () => {
    const tables = await Promise.all(["tcp", "tcp6"].map((f) => readFile(`/proc/${hostPid}/net/${f}`, "utf8").catch(() => "")));
    return servingConnections(tables.join("\n"));
  };
  const none = await until(async () => ((await count()) === 0 ? true : undefined), act, Math.min(act.deadline, Date.now() + DRAIN_MS));
  return none ? 0 : count();
}

/**
 * Stops a replica as Kubernetes stops a pod: its endpoint removed (the front reloads without it),
 * its in-flight requests given time to finish, then SIGTERM with a grace period. Its address is
 * let back into the front only once it is gone: Docker may give it to a later replica.
 */
async function retire(front: string, old: Replica, act: Act): Promise<string> {
  const t0 = Date.now();
  const { mainPid } = await stateOf(old.id);
  try {
    const out = old.ip ? await outOfFront(front, old.ip, act) : undefined;
    const t1 = Date.now();
    const left = await drain(mainPid, act);
    const t2 = Date.now();
    await docker.getContainer(old.id).stop({ t: STOP_GRACE_S });
    await docker.getContainer(old.id).remove({ force: true, v: true });
    const drained = left === 0 ? `drained in ${t2 - t1} ms` : `${left} connections still open after ${DRAIN_MS} ms`;
    return `out of the front ${out ? `in ${out - t0} ms` : "not seen"}, ${drained}, stopped in ${Date.now() - t2} ms`;
  } finally {
    if (old.ip) await execText(front, ["front-drain", "remove", old.ip]).catch(() => undefined);
  }
}

/**
 * Replicas, as an orchestrator rolls them (a surge of one): start the new one and wait until the
 * front serves it, then take the old one out of the front, drain and stop it (retire).
 */
async function rollReplicas(act: Act): Promise<Outcome> {
  const d = act.input.deployment;
  const notes: string[] = [];
  const front = await frontContainer(d);
  if ((await frontLive(front)).length === 0)
    throw new Error("the front writes no /tmp/nginx/live: its image predates draining (bash scripts/build-images.sh rebuilds it)");
  for (const old of await replicas(d)) {
    if (act.signal.aborted) throw new Error(reason(act.signal));
    const before = new Set((await replicas(d)).map((r) => r.id));
    await scale(d, before.size + 1, { timeoutMs: Math.max(5000, act.deadline - Date.now()) });
    const fresh = (await replicas(d)).find((r) => !before.has(r.id));
    if (!fresh) throw new Error(`no new replica came up to replace ${old.name}`);
    const serving = await waitFrontServes(d, fresh.ip, (await stateOf(fresh.id)).hostname, act);
    const stopped = await retire(front, old, act);
    notes.push(`${old.name} → ${fresh.name}${serving === undefined ? " (not seen serving through the front)" : ""}: ${stopped}`);
  }
  return {
    target: d.model,
    detail: `replicas replaced one by one (new up and served through the front; old out of the front, drained, SIGTERM): ${notes.join("; ")}`,
  };
}

// ---------------------------------------------------------------- scale

async function scaleWorkers(plan: Extract<EventPlan, { action: "scale"; what: "workers" }>, act: Act): Promise<Outcome> {
  const { deployment: d, manifest } = act.input;
  const helpers = manifest.events.helperProcesses;
  const reps = await Promise.all((await replicas(d)).map(async (r) => ({ r, state: await stateOf(r.id) })));
  const before = new Map<string, Set<number>>();
  for (const { r, state } of reps)
    before.set(r.id, new Set(workerProcesses(await processesOf(r.id), state.mainPid, "children", helpers).map((p) => p.pid)));
  const t0 = Date.now();
  for (let i = 0; i < plan.count; i++) {
    // Standard signals are not queued: one at a time, with time for the master to take each.
    if (i > 0) await sleep(300, act.signal);
    for (const { state } of reps) signalHost(state.mainPid, plan.signal);
  }
  const endedAt = Date.now();
  const expected = [...before.values()].reduce((a, s) => a + s.size, 0) + plan.by * reps.length;
  const added = await until(async () => {
    const fresh: string[] = [];
    let total = 0;
    for (const { r, state } of reps) {
      const now = workerProcesses(await processesOf(r.id), state.mainPid, "children", helpers);
      total += now.length;
      for (const p of now) if (!before.get(r.id)?.has(p.pid)) fresh.push((await xWorkerOf(state.hostname, p.pid)) ?? "");
    }
    return total === expected ? fresh : undefined;
  }, act);
  const detail = `SIG${plan.signal} x${plan.count} to the master: ${added ? `${expected} workers after ${Date.now() - t0} ms` : `never reached ${expected} workers`}`;
  if (plan.by < 0 || !added) return { target: d.model, detail, endedAt, ...(plan.by > 0 ? { capacityServingMs: null } : {}) };
  const served = await probeUntil(d, act, (w) => added.some((a) => a !== "" && w.startsWith(a)));
  return {
    target: d.model,
    detail: `${detail}; a new worker ${served ? `served ${served - t0} ms after the command` : "never served a probe"}`,
    endedAt,
    capacityServingMs: served ? served - t0 : null,
  };
}

async function scaleReplicas(plan: Extract<EventPlan, { action: "scale"; what: "replicas" }>, act: Act): Promise<Outcome> {
  const d = act.input.deployment;
  const before = new Set((await replicas(d)).map((r) => r.id));
  const t0 = Date.now();
  await scale(d, before.size + plan.by, { timeoutMs: Math.max(5000, act.deadline - Date.now()) });
  const endedAt = Date.now();
  const detail = `compose --scale ${d.model}=${before.size + plan.by} (from ${before.size}) in ${endedAt - t0} ms`;
  if (plan.by < 0) return { target: d.model, detail, endedAt };
  const fresh = (await replicas(d)).filter((r) => !before.has(r.id));
  const hostnames = await Promise.all(fresh.map(async (r) => (await stateOf(r.id)).hostname));
  const served = await probeUntil(d, act, (w) => hostnames.some((h) => w.startsWith(`${h}/`)));
  return {
    target: d.model,
    detail: `${detail}; a new replica ${served ? `served through the front ${served - t0} ms after the command` : "never served a probe"}`,
    endedAt,
    capacityServingMs: served ? served - t0 : null,
  };
}

// ---------------------------------------------------------------- probes and the hang request

interface Reply {
  status: number;
  body: string;
  worker?: string;
}

/** One HTTP GET; rejects on a connection error or after timeoutMs. */
function httpGet(host: string, port: number, path: string, timeoutMs: number, signal?: AbortSignal): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host, port, path, headers: { Connection: "close" }, agent: false, timeout: timeoutMs, ...(signal ? { signal } : {}) },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            ...(typeof res.headers["x-worker"] === "string" ? { worker: res.headers["x-worker"] } : {}),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** fib(1) through the front until a reply's X-Worker matches; when it did (epoch ms). */
async function probeUntil(d: Deployment, act: Act, match: (xWorker: string) => boolean): Promise<number | undefined> {
  return until(async () => {
    const r = await httpGet("127.0.0.1", d.httpPort, "/fib/1", 2000, act.signal);
    return r.worker !== undefined && match(r.worker) ? Date.now() : undefined;
  }, act);
}

/** One TCP line request; resolves to the reply line. */
function tcpLine(host: string, port: number, line: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = "";
    const stop = () => socket.destroy(new Error(reason(signal)));
    signal.addEventListener("abort", stop, { once: true });
    socket.on("connect", () => socket.write(`${line}\n`));
    socket.on("data", (c) => {
      data += c.toString("latin1");
      if (data.includes("\n")) {
        socket.end();
        resolve(data.split("\n")[0] ?? "");
      }
    });
    socket.on(
      "close",
      () => (
        signal.removeEventListener("abort", stop),
        reject(new Error(`closed without a reply${data ? ` (got ${JSON.stringify(data)})` : ""}`))
      ),
    );
    socket.on("error", reject);
  });
}

/** One request that pins a worker: when it was sent and when (if) it was answered or cut. */
async function hang(plan: Extract<EventPlan, { action: "hang" }>, act: Act): Promise<Outcome> {
  const d = act.input.deployment;
  let host = "127.0.0.1";
  let port = plan.protocol === "http" ? d.httpPort : d.tcpPort;
  let via = "through the front";
  if (plan.via === "replica") {
    const r = await replicaAt(d, 0);
    if (!r.ip) throw new Error(`${r.name} has no address`);
    [host, port, via] = [r.ip, plan.protocol === "http" ? 8000 : 25000, `straight to ${r.name}`];
  }
  const what = `${plan.kind} ${plan.arg} over ${plan.protocol} ${via}`;
  const sent = Date.now();
  try {
    if (plan.protocol === "tcp") {
      const line = await tcpLine(host, port, String(plan.arg), act.signal);
      return { target: what, detail: `${what}: answered ${JSON.stringify(line)} after ${Date.now() - sent} ms` };
    }
    const r = await httpGet(host, port, `/${plan.kind}/${plan.arg}`, Math.max(1000, act.deadline - Date.now()), act.signal);
    const detail = `${what}: ${r.status === 200 ? "answered" : `cut: status ${r.status}`} after ${Date.now() - sent} ms${r.worker ? ` by ${r.worker}` : ""}`;
    return {
      target: what,
      detail,
      ...(r.worker ? { worker: r.worker } : {}),
      ...(r.status !== 200 ? { outcome: `status ${r.status}` } : { outcome: "answered" }),
    };
  } catch (err) {
    return { target: what, detail: `${what}: no answer, ${(err as Error).message} after ${Date.now() - sent} ms`, outcome: "cut" };
  }
}

// ---------------------------------------------------------------- noise

/** A CPU burner beside the model for an interval: a busy loop in a container with a CPU limit. */
async function noise(plan: Extract<EventPlan, { action: "noise" }>, act: Act): Promise<Outcome> {
  const { deployment: d, labels } = act.input;
  const until = Math.min(Date.now() + plan.durationMs, act.measureEnd);
  const seconds = Math.max(1, Math.ceil((until - Date.now()) / 1000) + 1);
  const container = await docker.createContainer({
    name: `${d.project}-noise-${Math.random().toString(36).slice(2, 6)}`,
    Image: "debian:trixie-slim",
    // Bounded by itself too (coreutils timeout), should the orchestrator go away.
    Cmd: ["timeout", String(seconds), "sh", "-c", "while :; do :; done"],
    User: "10001:10001",
    Labels: { ...labels, "fiblab.noise": "1" },
    HostConfig: {
      ...hardenedHostConfig(),
      NanoCpus: Math.round(plan.cpus * 1e9),
      Memory: 32 * 1024 * 1024,
      PidsLimit: 16,
      NetworkMode: "none",
    },
  });
  try {
    await container.start();
    const started = Date.now();
    await sleep(until - Date.now(), act.signal);
    return { target: "noise burner", detail: `a busy loop limited to ${plan.cpus} CPU for ${Date.now() - started} ms` };
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}
