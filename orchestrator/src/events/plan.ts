import type { KnobSettings } from "../models/knobs.js";
import type { Manifest, ManifestEvents, Protocol } from "../models/manifest.js";
import { CONTRACT_KNOBS } from "../models/knobs.js";
import { hangRequest, type EventSpec, type ScaleTarget, type SignalName } from "./spec.js";

/**
 * Pure planning of scripted events: given a model's manifest and a topology, what an event means
 * (which processes, which signal, workers or replicas), or why the model cannot do it. The
 * scenario check (scenario/load.ts) rejects what cannot be done before anything starts; the
 * executor (run/events.ts) carries out the plan.
 */

export type EventModel = Pick<Manifest, "name" | "knobs"> & { events?: ManifestEvents; protocols?: readonly Protocol[] };
export type EventTopology = KnobSettings & { replicas: number };

export type EventPlan =
  | {
      action: "kill-worker";
      replica: number;
      signal: SignalName;
      /** children: a child of the main process; main: the main process */ process: "children" | "main";
    }
  | { action: "kill-container"; replica: number }
  | { action: "remove-container"; replica: number }
  | { action: "rolling-restart"; what: "workers"; signal: SignalName }
  | { action: "rolling-restart"; what: "replicas" }
  | { action: "scale"; what: "workers"; signal: SignalName; count: number; by: number }
  | { action: "scale"; what: "replicas"; from: number; to: number; by: number }
  | { action: "hang"; kind: "fib" | "sleep"; arg: number; protocol: Protocol; via: "front" | "replica" }
  | { action: "noise"; cpus: number; durationMs: number };

/** Why an event cannot be done, and which field of the event is at fault. */
export interface EventRefusal {
  field: string;
  reason: string;
}

export type PlanResult = { ok: true; plan: EventPlan } | ({ ok: false } & EventRefusal);

/** The value of a knob in a topology: the topology's, else the manifest's default. */
export function knobValue(model: EventModel, t: EventTopology, knob: string): string | undefined {
  if (knob === "WORKERS" && t.workers !== undefined) return String(t.workers);
  if (knob === "THREADS" && t.threads !== undefined) return String(t.threads);
  const set = t.env?.[knob];
  if (set !== undefined) return String(set);
  const dflt = model.knobs[knob]?.default ?? (CONTRACT_KNOBS as Record<string, number>)[knob];
  return dflt === undefined ? undefined : String(dflt);
}

/** Does the model have its in-process master in this topology (uvicorn: only with WORKERS >= 2)? */
export function hasMaster(model: EventModel, t: EventTopology): boolean {
  const when = model.events?.masterWhen;
  if (!when) return true;
  return Number(knobValue(model, t, when.knob) ?? 0) >= when.atLeast;
}

function masterNote(model: EventModel): string {
  const when = model.events?.masterWhen;
  return when ? ` (its master exists only with ${when.knob} >= ${when.atLeast})` : "";
}

const refuse = (field: string, reason: string): PlanResult => ({ ok: false, field, reason });

function planKillWorker(e: Extract<EventSpec, { action: "kill-worker" }>, m: EventModel, t: EventTopology): PlanResult {
  const where = m.events?.workerProcesses;
  if (!where) {
    return refuse(
      "action",
      `model ${m.name} cannot kill-worker: it has no worker process such a kill can mean (its manifest declares no events.workerProcesses)`,
    );
  }
  const process = where === "children" && hasMaster(m, t) ? "children" : "main";
  return { ok: true, plan: { action: "kill-worker", replica: e.replica, signal: e.signal, process } };
}

/** workers when the topology is one container of a model whose master can, else replicas. */
function defaultTarget(can: boolean, t: EventTopology): ScaleTarget {
  return can && t.replicas === 1 ? "workers" : "replicas";
}

function planRollingRestart(e: Extract<EventSpec, { action: "rolling-restart" }>, m: EventModel, t: EventTopology): PlanResult {
  const rr = m.events?.rollingRestart;
  const can = rr !== undefined && hasMaster(m, t);
  const what = e.what ?? defaultTarget(can, t);
  if (what === "replicas") return { ok: true, plan: { action: "rolling-restart", what } };
  if (!can) {
    return refuse(
      "what",
      `model ${m.name} cannot rolling-restart its workers: it has no in-process master that replaces them${rr ? masterNote(m) : ""}; use what: replicas`,
    );
  }
  return { ok: true, plan: { action: "rolling-restart", what, signal: rr.signal } };
}

function planScale(e: Extract<EventSpec, { action: "scale" }>, m: EventModel, t: EventTopology): PlanResult {
  const sw = m.events?.scaleWorkers;
  const can = sw !== undefined && hasMaster(m, t);
  const what = e.what ?? defaultTarget(can, t);
  if (what === "replicas") {
    const to = t.replicas + e.by;
    if (to < 1) return refuse("by", `scale by ${e.by} would leave ${to} replicas of ${m.name} (at least 1 must stay)`);
    return { ok: true, plan: { action: "scale", what, from: t.replicas, to, by: e.by } };
  }
  if (!can) {
    return refuse(
      "what",
      `model ${m.name} cannot scale its workers: it has no master that grows and shrinks them on a signal${sw ? masterNote(m) : ""}; use what: replicas`,
    );
  }
  const signal = e.by > 0 ? sw.up : sw.down;
  return { ok: true, plan: { action: "scale", what, signal, count: Math.abs(e.by), by: e.by } };
}

function planHang(e: Extract<EventSpec, { action: "hang" }>, m: EventModel, t: EventTopology): PlanResult {
  const { kind, arg } = hangRequest(e.request);
  if (kind === "sleep" && e.protocol === "tcp") return refuse("request", "sleep is only served over http; use fib over tcp");
  if (m.protocols && !m.protocols.includes(e.protocol)) return refuse("protocol", `model ${m.name} does not serve ${e.protocol}`);
  const capName = kind === "fib" ? "FIB_MAX" : "SLEEP_MAX_MS";
  const cap = Number(knobValue(m, t, capName));
  if (arg > cap)
    return refuse("request", `${kind} ${arg} is above the cap ${capName}=${cap} of this topology (raise it with env: {${capName}: ...})`);
  return { ok: true, plan: { action: "hang", kind, arg, protocol: e.protocol, via: e.via } };
}

/** What the event means for this model in this topology, or why it cannot be done. */
export function planEvent(e: EventSpec, m: EventModel, t: EventTopology, eventDurationMs = 0): PlanResult {
  if ("replica" in e && e.replica >= t.replicas) {
    return refuse("replica", `replica ${e.replica} does not exist: the topology has ${t.replicas} (counted from 0)`);
  }
  switch (e.action) {
    case "kill-worker":
      return planKillWorker(e, m, t);
    case "kill-container":
    case "remove-container":
      return { ok: true, plan: { action: e.action, replica: e.replica } };
    case "rolling-restart":
      return planRollingRestart(e, m, t);
    case "scale":
      return planScale(e, m, t);
    case "hang":
      return planHang(e, m, t);
    case "noise":
      return { ok: true, plan: { action: "noise", cpus: e.cpus, durationMs: eventDurationMs } };
  }
}

// ---------------------------------------------------------------- processes

/** One line of `docker top`: host pids. */
export interface HostProcess {
  pid: number;
  ppid: number;
  command: string;
}

/**
 * The worker processes of a container: the main process's children (less the helpers the manifest
 * names), or the main process itself.
 */
export function workerProcesses(
  procs: readonly HostProcess[],
  mainPid: number,
  where: "children" | "main",
  helpers?: string,
): HostProcess[] {
  if (where === "main") return procs.filter((p) => p.pid === mainPid);
  const helper = helpers ? new RegExp(helpers) : undefined;
  return procs.filter((p) => p.ppid === mainPid && !helper?.test(p.command));
}

/** The worker a kill-worker hits: the oldest worker (lowest pid), or the main process. */
export function pickWorker(
  procs: readonly HostProcess[],
  mainPid: number,
  where: "children" | "main",
  helpers?: string,
): HostProcess | undefined {
  const ws = workerProcesses(procs, mainPid, where, helpers);
  return ws.slice().sort((a, b) => a.pid - b.pid)[0];
}

/** `docker top` output (Titles, Processes) as host processes; needs PID, PPID and CMD columns. */
export function parseTop(top: { Titles: string[]; Processes: string[][] }): HostProcess[] {
  const col = (name: string) => top.Titles.findIndex((t) => t.toUpperCase() === name);
  const [pid, ppid] = [col("PID"), col("PPID")];
  const cmd = Math.max(col("CMD"), col("COMMAND"));
  return top.Processes.map((row) => ({
    pid: Number(row[pid]),
    ppid: Number(row[ppid]),
    command: cmd >= 0 ? (row[cmd] ?? "") : "",
  })).filter((p) => Number.isInteger(p.pid) && p.pid > 0);
}

/** The replica (hostname) and process (hostname/pid) parts of an X-Worker value. */
export function workerUnits(xWorker: string): { replica: string; process: string } {
  const parts = xWorker.split("/");
  return { replica: parts[0] ?? "", process: parts.slice(0, 2).join("/") };
}
