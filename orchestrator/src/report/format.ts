import { NO_REPLY_KINDS, P99_FACTOR, RECOVERY_SECONDS, THROUGHPUT_MIN_SLACK, THROUGHPUT_TOLERANCE } from "../measure/recovery.js";
import type { RowEvent, RowSummary, RunSummary } from "../measure/run-summary.js";
import type { SampleStats, Spread } from "../measure/stats.js";
import type { EngineInfo } from "../measure/placement.js";
import { CLIENT_CPU_SHARE, CLIENT_THROTTLED_SHARE, DELIVERY_THRESHOLD, MACHINE_BUSY_CORES } from "../measure/thresholds.js";
import { formatDuration } from "../scenario/duration.js";
import type { Load, Topology } from "../scenario/schema.js";

/** Text for the cells of the report tables, shared by the Markdown and HTML renderers. */

export const DASH = "—";

/** Enough digits to compare, not so many that noise looks like signal. */
export function num(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return "0";
  return x.toPrecision(2);
}

/** Configured values (rates, cpus) as written, not rounded like measurements. */
export function plain(x: number): string {
  return String(x);
}

export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : `${x.toFixed(digits)}%`;
}

/** "1234 ± 12" (mean ± sample stdev over repeats). */
export function meanSd(s: SampleStats): string {
  if (s.mean === null) return DASH;
  return s.stdev === null ? num(s.mean) : `${num(s.mean)} ± ${num(s.stdev)}`;
}

/**
 * "12.3 (11.9–12.8)": a percentile of the histogram merged over all repeats, and in parentheses
 * the lowest and highest value the repeats had on their own.
 */
export function percentileLabel(merged: number | null | undefined, spread: Spread): string {
  if (merged === null || merged === undefined) return DASH;
  if (spread.n < 2 || spread.min === null || spread.max === null) return num(merged);
  return `${num(merged)} (${num(spread.min)}–${num(spread.max)})`;
}

/** "11.2–13.4": the 95% interval of the per-repeat values. */
export function intervalLabel(spread: Spread): string {
  return spread.ci95 === null ? DASH : `${num(spread.ci95.low)}–${num(spread.ci95.high)}`;
}

export function cv(s: SampleStats): string {
  return s.cv === null ? DASH : pct(100 * s.cv);
}

export function topologyLabel(t: Topology): string {
  const parts = [`${t.replicas} × ${t.cpus} cpu`];
  if (t.workers !== undefined) parts.push(`${t.workers} workers`);
  if (t.threads !== undefined) parts.push(`${t.threads} threads`);
  if (t.cpuset !== undefined) parts.push(`cpuset ${t.cpuset}`);
  if (t.memory !== undefined) parts.push(`mem ${t.memory}`);
  if (t.balance !== undefined) parts.push(`front ${t.balance}`);
  for (const [k, v] of Object.entries(t.env ?? {})) parts.push(`${k}=${String(v)}`);
  return t.name ? `${t.name}: ${parts.join(", ")}` : parts.join(", ");
}

export function loadLabel(load: Load, tool: string): string {
  if (load.model === "open") return `open ${plain(load.rate)} req/s · ${tool}`;
  let s = `closed ${load.connections} conn`;
  if (load.pipelining > 1) s += ` × ${load.pipelining} pipelined`;
  if (load.rate !== undefined) s += `, cap ${plain(load.rate)} req/s`;
  return `${s} · ${tool}`;
}

export function errorsLabel(r: RowSummary): string {
  if (r.errorsTotal === 0) return "0";
  const kinds = Object.entries(r.errors)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(", ");
  const share = r.sent > 0 ? ` = ${pct((100 * r.errorsTotal) / r.sent, 2)} of sent` : "";
  return `${r.errorsTotal}${share} (${kinds})`;
}

export function droppedLabel(r: RowSummary): string {
  if (r.loadModel !== "open") return r.dropped === 0 ? DASH : String(r.dropped);
  if (r.loadNotDeliveredRepeats === 0) return String(r.dropped);
  return `${r.dropped} ⚠ load not delivered in ${r.loadNotDeliveredRepeats}/${r.repeats} repeats`;
}

export function cpuLabel(r: RowSummary): string {
  if (r.modelCores.mean === null) return DASH;
  return `${num(r.modelCores.mean)} / ${plain(r.cpuBudget)} cores`;
}

/** The busiest client's share of its CPU limit and of throttled periods, in the worst repeat. */
export function clientCpuLabel(r: RowSummary): string {
  const share = r.clients.maxCpuShare.max;
  const throttled = r.clients.maxThrottledShare.max;
  if (share === null && throttled === null) return DASH;
  const parts: string[] = [];
  if (share !== null) parts.push(`${pct(100 * share, 0)} of ${plain(r.clients.cpus)} cpu`);
  if (throttled !== null) parts.push(`throttled ${pct(100 * throttled)}`);
  return parts.join(", ");
}

/** What makes a row's figures doubtful, with the share of repeats it hit. */
export function flagsLabel(r: RowSummary): string {
  const flags: string[] = [];
  if (r.clientBoundRepeats > 0) flags.push(`⚠ client-bound ${r.clientBoundRepeats}/${r.repeats}`);
  if (r.machineBusyRepeats > 0) flags.push(`⚠ machine busy ${r.machineBusyRepeats}/${r.repeats}`);
  return flags.length > 0 ? flags.join(", ") : DASH;
}

export function evennessLabel(r: RowSummary): string {
  const parts: string[] = [];
  const e = r.evenness;
  if (e.byProcessCv.mean !== null) {
    parts.push(`proc cv ${num(e.byProcessCv.mean)}`);
    if (e.byProcessMaxMean?.mean != null) parts.push(`max/mean ${num(e.byProcessMaxMean.mean)}`);
    if (e.byProcessMaxMin.mean !== null) parts.push(`max/min ${num(e.byProcessMaxMin.mean)}`);
  }
  if (r.topology.replicas > 1 && e.byReplicaCv.mean !== null) {
    parts.push(`replica cv ${num(e.byReplicaCv.mean)}`);
    if (e.byReplicaMaxMean?.mean != null) parts.push(`replica max/mean ${num(e.byReplicaMaxMean.mean)}`);
  }
  return parts.length > 0 ? parts.join(", ") : DASH;
}

const MIB = 2 ** 20;

/** Bytes as MiB, rounded like any measurement. */
export function mib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? DASH : num(bytes / MIB);
}

/**
 * "PSS 41.3 (40.9–41.8) · RSS 60.2 · cgroup 70.1 MiB, 3 proc": sums over the model's processes
 * and containers at each repeat's window end; mean over repeats, the PSS range beside it.
 */
export function memoryLabel(r: RowSummary): string {
  const m = r.memory;
  if (!m || m.pssBytes.mean === null) return DASH;
  const range = m.pssBytes.n > 1 ? ` (${mib(m.pssBytes.min)}–${mib(m.pssBytes.max)})` : "";
  const parts = [`PSS ${mib(m.pssBytes.mean)}${range}`, `RSS ${mib(m.rssBytes.mean)}`];
  if (m.cgroupBytes.mean !== null) parts.push(`cgroup ${mib(m.cgroupBytes.mean)}`);
  const p = m.processes;
  const procs = p.min === null ? "" : `, ${p.min === p.max ? String(p.min) : `${num(p.min)}–${num(p.max)}`} proc`;
  return `${parts.join(" · ")} MiB${procs}${m.unreadable > 0 ? ` (${m.unreadable} unreadable)` : ""}`;
}

function requestLabel(r: Pick<RowSummary, "request">): string {
  if (r.request.length === 1) return r.request[0]?.text ?? DASH;
  const total = r.request.reduce((a, e) => a + e.weight, 0);
  return r.request.map((e) => `${e.text} (${pct((100 * e.weight) / total, 0)})`).join(" + ");
}

export interface GroupSection {
  workload: string;
  group: string;
  rows: RowSummary[];
}

/** Rows by workload and group, in the order the run summary lists them. */
export function sections(run: RunSummary): GroupSection[] {
  const out: GroupSection[] = [];
  for (const r of run.rows) {
    let s = out.find((x) => x.workload === r.workload && x.group === r.group);
    if (!s) {
      s = { workload: r.workload, group: r.group, rows: [] };
      out.push(s);
    }
    s.rows.push(r);
  }
  return out;
}

export const TABLE_HEADER = [
  "Model",
  "Topology",
  "Load",
  "Repeats",
  "Throughput req/s (mean ± sd)",
  "CV",
  "p50 ms (repeats min–max)",
  "p99 ms (repeats min–max)",
  "p99.9 ms (repeats min–max)",
  "p99 95% interval over repeats",
  "Errors",
  "Dropped",
  "CPU used",
  "Throttled",
  "Memory, model (sums; PSS repeats min–max)",
  "Client CPU (busiest client, worst repeat)",
  "X-Worker evenness",
  "Flags",
] as const;

/**
 * One table row per model x topology. Percentiles are those of the histogram merged over every
 * repeat, with the per-repeat range beside them; throughput is the mean over repeats.
 */
function tableRow(r: RowSummary): string[] {
  return [
    r.model,
    topologyLabel(r.topology),
    loadLabel(r.load, r.tool),
    r.failedRepeats > 0 ? `${r.repeats} (+${r.failedRepeats} failed)` : String(r.repeats),
    meanSd(r.throughput),
    cv(r.throughput),
    percentileLabel(r.latency?.p50, r.latencySpread.p50),
    percentileLabel(r.latency?.p99, r.latencySpread.p99),
    percentileLabel(r.latency?.p999, r.latencySpread.p999),
    intervalLabel(r.latencySpread.p99),
    errorsLabel(r),
    droppedLabel(r),
    cpuLabel(r),
    r.modelThrottledPct.mean === null ? DASH : pct(r.modelThrottledPct.mean),
    memoryLabel(r),
    clientCpuLabel(r),
    evennessLabel(r),
    flagsLabel(r),
  ];
}

/** Where each tool's latency starts counting, by load model. */
function latencyBasis(tool: string, loadModel: string): string {
  if (loadModel === "closed") return "latency from the actual send";
  if (tool === "tcp") return "latency from the intended send time";
  if (tool === "k6") return "latency from the actual send; arrivals that found no free VU dropped";
  return "latency from the actual send";
}

/** One line per open-model row whose client measured its send lag (the TCP client). */
function sendLagLines(rows: readonly RowSummary[]): string[] {
  return rows
    .filter((r) => r.sendLag !== null)
    .map(
      (r) =>
        `${r.model} ${r.topology.id}: client send lag p50 ${num(r.sendLag?.p50)} ms, p99 ${num(r.sendLag?.p99)} ms, max ${num(r.sendLag?.max)} ms`,
    );
}

/** Per model and topology, once per protocol: how long from `up` to the first correct answer. */
function coldStartLines(rows: readonly RowSummary[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const r of rows) {
    const key = `${r.model} ${r.topology.id} ${r.protocol}`;
    if (seen.has(key) || r.coldStartMs.n === 0) continue;
    seen.add(key);
    const s = r.coldStartMs;
    const secs = (ms: number | null) => num(ms === null ? null : ms / 1000);
    out.push(`${key}: cold start ${secs(s.mean)} s${s.n > 1 ? ` (${secs(s.min)}–${secs(s.max)} s over ${s.n} repeats)` : ""}`);
  }
  return out;
}

/** "Started …, finished …. 12 cells (1 failed), run in a random order from seed 42." */
export function runHeadline(run: RunSummary): string {
  const failed = run.cells.filter((c) => c.status !== "ok").length;
  return (
    `Started ${run.startedAt}, finished ${run.finishedAt}. ${run.cells.length} cells` +
    `${failed > 0 ? ` (${failed} failed)` : ""}, run in a random order from seed ${run.seed}.`
  );
}

/** A workload/group section's text, as both reports give it around their own markup. */
export interface ReportSection {
  title: string;
  /** The section's first row: its protocol and load model head the section. */
  first: RowSummary;
  /** How it was loaded, after "<PROTOCOL>, <load model> model". */
  load: string;
  table: string[][];
  sendLags: string[];
  coldStarts: string[];
  notes: string[];
}

export function reportSections(run: RunSummary): ReportSection[] {
  return sections(run).flatMap((s) => {
    const first = s.rows[0];
    if (!first) return [];
    const load =
      `via ${first.tool} (${latencyBasis(first.tool, first.loadModel)}), request ${requestLabel(first)}, ` +
      `${first.clients.count} client(s) × ${first.clients.cpus} cpu, ${formatDuration(first.durationMs)} measured after ${formatDuration(first.warmupMs)} warm-up.`;
    return [
      {
        title: `${s.workload} / ${s.group}`,
        first,
        load,
        table: s.rows.map(tableRow),
        sendLags: sendLagLines(s.rows),
        coldStarts: coldStartLines(s.rows),
        notes: s.rows.flatMap((r) => r.notes.map((n) => `${r.model} ${r.topology.id}: ${n}`)),
      },
    ];
  });
}

export function environmentLines(run: RunSummary): [string, string][] {
  const e = run.environment;
  const lines: [string, string][] = [];
  const add = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== "") lines.push([k, typeof v === "string" ? v : JSON.stringify(v)]);
  };
  add("Host", e.host);
  add("OS", e.os);
  add("Kernel", e.kernel);
  add("CPU", e.cpuModel);
  add("Cores", e.cores);
  add("Memory", e.memoryBytes !== undefined ? `${(e.memoryBytes / 2 ** 30).toFixed(1)} GiB` : undefined);
  add("Docker", e.dockerVersion);
  add("cgroup", e.cgroupVersion !== undefined && e.cgroupVersion !== "" ? `v${e.cgroupVersion}` : undefined);
  add("Storage driver", e.storageDriver);
  add("Node", e.nodeVersion);
  add("Git commit", e.gitCommit !== undefined ? `${e.gitCommit}${e.gitDirty ? " (dirty)" : ""}` : undefined);
  add("Engine", e.engine ? engineLabel(e.engine) : undefined);
  const shown = new Set([
    "engine",
    "host",
    "os",
    "kernel",
    "cpuModel",
    "cores",
    "memoryBytes",
    "dockerVersion",
    "cgroupVersion",
    "storageDriver",
    "nodeVersion",
    "gitCommit",
    "gitDirty",
    "images",
  ]);
  for (const [k, v] of Object.entries(e)) if (!shown.has(k)) add(k, v);
  return lines;
}

/** "compose", or "swarm: node-1 (server, manager, Docker 26.1.5), ...". */
function engineLabel(e: EngineInfo): string {
  const nodes = e.nodes.map((n) => `${n.name} (${n.role}, Docker ${n.docker})`);
  return nodes.length > 0 ? `${e.name}: ${nodes.join(", ")}` : e.name;
}

/** The run's doubtful figures, said before anything else. */
export function problemLines(run: RunSummary): string[] {
  const lines: string[] = [];
  const bound = run.rows.filter((r) => r.clientBoundRepeats > 0).length;
  const busy = run.cells.filter((c) => c.machineBusy).length;
  if (bound > 0)
    lines.push(
      `⚠ client-bound: ${bound} of ${run.rows.length} rows had a load client at its CPU limit in some repeat; these figures measure the client, not the server.`,
    );
  if (busy > 0) lines.push(`⚠ machine busy: ${busy} of ${run.cells.length} cells shared the host's CPUs with something outside this run.`);
  return lines;
}

function groupsOf(run: RunSummary, model: "open" | "closed"): string {
  const seen = new Map<string, string>();
  for (const r of run.rows.filter((x) => x.loadModel === model)) seen.set(`${r.workload}/${r.group}`, r.tool);
  return [...seen].map(([name, tool]) => `${name} (${tool})`).join(", ");
}

/** The reading guide shared by both reports: where each figure comes from, and every threshold. */
export function methodNotes(run: RunSummary): string[] {
  const open = groupsOf(run, "open");
  const closed = groupsOf(run, "closed");
  const notes = [
    "Latency percentiles come from merged HdrHistograms: every client's histogram (µs, 3 significant digits) of every ok repeat is added into one, and the percentiles are read from it, never averaged. In parentheses: the lowest and highest value a repeat had on its own; the p99 interval is the 95% Student's t interval of the per-repeat p99s.",
    "Throughput is ok replies per second over the union of the clients' measurement windows (warm-up excluded); mean ± sample standard deviation over repeats, with the coefficient of variation (CV).",
    `Open model (fixed arrival rate): ${open || "none in this run"}. The TCP client counts latency from each request's intended send time, so neither a stalled server nor a late client hides (corrected for coordinated omission), and reports how late its sends left (client send lag). k6 (constant-arrival-rate) counts from the actual send and drops arrivals that find no free VU (counted as dropped): it is not corrected for coordinated omission the way the TCP client is. Below ${DELIVERY_THRESHOLD * 100}% of the planned sends, or with any dropped, the load was not delivered.`,
    `Closed model (fixed connections; each sends its next request when a reply arrives, latency from the actual send; throughput is what the server sustained at that concurrency, and waiting clients send less, which hides stalls): ${closed || "none in this run"}.`,
    "Open and closed figures answer different questions; compare rows within one table, not across load models.",
  ];
  if (run.rows.some((r) => r.tool === "autocannon")) {
    notes.push(
      "autocannon: closed model only, latency from its send; used as the saturation tool (its rate mode does not correct coordinated omission); its own histogram has 1 ms resolution, so fiblab times every request itself from write to reply in µs.",
    );
  }
  if (run.rows.some((r) => r.loadNotDeliveredRepeats > 0)) {
    notes.push(
      "⚠ load not delivered: the open-model client dropped or could not send its planned requests; those rows understate latency.",
    );
  }
  notes.push(
    `⚠ client-bound: a client used more than ${CLIENT_CPU_SHARE * 100}% of its CPU limit or was throttled in more than ${CLIENT_THROTTLED_SHARE * 100}% of its CFS periods; those figures measure the client, not the server. Client CPU shows the busiest client's share of its limit and of throttled periods, in the worst repeat.`,
    `⚠ machine busy: more than ${MACHINE_BUSY_CORES} of a core was used on the host outside this run's containers and the orchestrator during the cell's window; the cell shared the CPUs its figures depend on.`,
    "CPU used is the model containers' CPU seconds over the engine's sampled interval, against the budget (replicas × cpus); throttled is the share of CFS periods in which they were throttled.",
    "X-Worker evenness: coefficient of variation of replies over processes (and replicas), 0 is perfectly even; max/mean is the busiest process's (replica's) replies over the mean, 1 is perfectly even and 1.5 means the busiest did half as much again as its fair share; max/min is the busiest over the idlest. Each is a mean over repeats.",
    "Memory (PSS): read once per repeat at the end of the measured window, with the load on, from /proc/<pid>/smaps_rollup of every process of the model's containers. PSS (proportional set size) divides each page among the processes that map it, so a topology's sum counts the copy-on-write pages a pre-fork master shares with its workers once; RSS counts them once per process, so its sum overstates a shared-memory topology. cgroup is what the kernel charged the model containers' cgroups at the same moment, page cache and kernel memory included; a file page is charged to the cgroup that first read it, so pages of image files another container read first are not in it, and it can be below the PSS sum. The figures are means over repeats (a sum per repeat, not a percentile), the PSS range over repeats in parentheses.",
  );
  return notes;
}

const EVENTS_HEADER = [
  "Model",
  "Topology",
  "Group",
  "Event",
  "Repeats",
  "Errors in its window",
  "No reply",
  "Time to recover",
  "Capacity serving / worst second",
] as const;

function kindsLabel(total: number, kinds: Readonly<Record<string, number>>): string {
  if (total === 0) return "0";
  const parts = Object.entries(kinds)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`);
  return `${total} (${parts.join(", ")})`;
}

const seconds = (ms: number | null) => (ms === null ? DASH : `${num(ms / 1000)} s`);

/** "2.1 s (1.8–2.5 s)", with the repeats that did not recover or could not be judged. */
export function recoveryLabel(e: RowEvent): string {
  const parts: string[] = [];
  const s = e.recoveryMs;
  if (s.n > 0) parts.push(s.n > 1 ? `${seconds(s.mean)} (${seconds(s.min)}–${seconds(s.max)})` : seconds(s.mean));
  if (e.didNotRecover > 0) parts.push(`did not recover in ${e.didNotRecover}/${e.repeats}`);
  if (e.notJudged > 0) parts.push(`no baseline in ${e.notJudged}/${e.repeats}`);
  return parts.length > 0 ? parts.join("; ") : DASH;
}

/** scale: how long until the new capacity served; otherwise the worst second of the event's window. */
export function capacityOrWorstLabel(e: RowEvent): string {
  if (e.action === "scale") {
    const s = e.capacityServingMs;
    const parts: string[] = [];
    if (s.n > 0)
      parts.push(`capacity serving after ${s.n > 1 ? `${seconds(s.mean)} (${seconds(s.min)}–${seconds(s.max)})` : seconds(s.mean)}`);
    if (e.capacityNeverServed > 0) parts.push(`never served in ${e.capacityNeverServed}/${e.repeats}`);
    return parts.length > 0 ? parts.join("; ") : DASH;
  }
  const parts: string[] = [];
  const r = e.replacementMs;
  if (r.n > 0) parts.push(`replacement after ${r.n > 1 ? `${seconds(r.mean)} (${seconds(r.min)}–${seconds(r.max)})` : seconds(r.mean)}`);
  const w = e.worstSecond;
  if (w && w.errors > 0) parts.push(`worst second ${w.second} (r${w.repeat}): ${w.errors} errors, ${w.ok} ok`);
  return parts.length > 0 ? parts.join("; ") : DASH;
}

/** One line per row and event: what the event did to that group over the repeats. */
function eventRows(run: RunSummary): string[][] {
  return run.rows.flatMap((r) =>
    r.events.map((e) => [
      r.model,
      r.topology.id,
      `${r.workload} / ${r.group} (${r.loadModel})`,
      `#${e.index} ${e.action}${e.failedActions > 0 ? ` ⚠ action failed in ${e.failedActions}/${e.repeats}` : ""}`,
      String(e.repeats),
      kindsLabel(e.errorsTotal, e.errors),
      kindsLabel(e.noReplyTotal, e.noReply),
      recoveryLabel(e),
      capacityOrWorstLabel(e),
    ]),
  );
}

/** How the events table was made, from the thresholds the analysis used. */
function eventNotes(): string[] {
  return [
    `Time to recover: from the event's start until per-second throughput is back within ${THROUGHPUT_TOLERANCE * 100}% of its pre-event mean (at least ${THROUGHPUT_MIN_SLACK} req/s either way) and per-second p99 at most ${P99_FACTOR}× the pre-event p99, for ${RECOVERY_SECONDS} seconds in a row, looked for from the second the action ended in; the pre-event figures are over the seconds before the event (the window's first second and seconds an earlier event disturbed left out). Mean (min–max) over the repeats that recovered.`,
    `Errors in its window: from the second the event started in through the end of the recovery (or the window's end). No reply: of those, the requests sent that got no reply at all (${NO_REPLY_KINDS.join(", ")}).`,
  ];
}

export interface EventsTable {
  /** How the table was made. */
  notes: string[];
  header: readonly string[];
  rows: string[][];
}

/** The scripted events' table, for a run that had any. */
export function eventsTable(run: RunSummary): EventsTable | undefined {
  const rows = eventRows(run);
  return rows.length > 0 ? { notes: eventNotes(), header: EVENTS_HEADER, rows } : undefined;
}
