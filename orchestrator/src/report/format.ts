import type { RowSummary, RunSummary } from "../measure/run-summary.js";
import type { SampleStats } from "../measure/stats.js";
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

/** "12.3 (11.9–12.8)": mean over repeats and the range. */
export function meanRange(s: SampleStats): string {
  if (s.mean === null) return DASH;
  if (s.n < 2 || s.min === null || s.max === null) return num(s.mean);
  return `${num(s.mean)} (${num(s.min)}–${num(s.max)})`;
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

export function evennessLabel(r: RowSummary): string {
  const parts: string[] = [];
  if (r.evenness.byProcessCv.mean !== null) {
    parts.push(`proc cv ${num(r.evenness.byProcessCv.mean)}`);
    if (r.evenness.byProcessMaxMin.mean !== null) parts.push(`max/min ${num(r.evenness.byProcessMaxMin.mean)}`);
  }
  if (r.topology.replicas > 1 && r.evenness.byReplicaCv.mean !== null) parts.push(`replica cv ${num(r.evenness.byReplicaCv.mean)}`);
  return parts.length > 0 ? parts.join(", ") : DASH;
}

export function requestLabel(r: Pick<RowSummary, "request">): string {
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

export interface TableRow {
  cells: string[];
  notes: string[];
}

export const TABLE_HEADER = [
  "Model",
  "Topology",
  "Load",
  "Repeats",
  "Throughput req/s (mean ± sd)",
  "CV",
  "p50 ms",
  "p99 ms",
  "p99.9 ms",
  "Errors",
  "Dropped",
  "CPU used",
  "Throttled",
  "X-Worker evenness",
] as const;

/** One table row per model x topology; percentiles as mean (min–max) over repeats. */
export function tableRow(r: RowSummary): TableRow {
  return {
    cells: [
      r.model,
      topologyLabel(r.topology),
      loadLabel(r.load, r.tool),
      r.failedRepeats > 0 ? `${r.repeats} (+${r.failedRepeats} failed)` : String(r.repeats),
      meanSd(r.throughput),
      cv(r.throughput),
      meanRange(r.latency.p50),
      meanRange(r.latency.p99),
      meanRange(r.latency.p999),
      errorsLabel(r),
      droppedLabel(r),
      cpuLabel(r),
      r.modelThrottledPct.mean === null ? DASH : pct(r.modelThrottledPct.mean),
      evennessLabel(r),
    ],
    notes: r.notes,
  };
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
  add("Node", e.nodeVersion);
  add("Git commit", e.gitCommit !== undefined ? `${e.gitCommit}${e.gitDirty ? " (dirty)" : ""}` : undefined);
  const shown = new Set(["host", "os", "kernel", "cpuModel", "cores", "memoryBytes", "dockerVersion", "nodeVersion", "gitCommit", "gitDirty", "images"]);
  for (const [k, v] of Object.entries(e)) if (!shown.has(k)) add(k, v);
  return lines;
}

/** The reading guide shared by both reports: where each figure comes from. */
export function methodNotes(run: RunSummary): string[] {
  const names = (model: "open" | "closed") =>
    [...new Set(run.rows.filter((r) => r.loadModel === model).map((r) => `${r.workload}/${r.group}`))].join(", ");
  const open = names("open");
  const closed = names("closed");
  const notes = [
    "Latency percentiles come from merged HdrHistograms: every client's histogram (µs, 3 significant digits) is added into one per repeat, never averaged. Across repeats the tables show the mean of each repeat's percentile and the range (min–max).",
    "Throughput is ok replies per second over the union of the clients' measurement windows (warm-up excluded); mean ± sample standard deviation over repeats, with the coefficient of variation (CV).",
    `Open model (fixed arrival rate; latency counted from the intended send time, so stalls are not hidden): ${open || "none in this run"}.`,
    `Closed model (fixed connections; throughput is what the server sustained at that concurrency, and waiting clients send less, which hides stalls): ${closed || "none in this run"}.`,
    "Open and closed figures answer different questions; compare rows within one table, not across load models.",
  ];
  if (run.rows.some((r) => r.tool === "autocannon")) {
    notes.push("autocannon: used as the closed-model saturation tool (its rate mode does not correct coordinated omission); its own histogram has 1 ms resolution, so fiblab times every request itself from write to reply in µs.");
  }
  if (run.rows.some((r) => r.loadNotDeliveredRepeats > 0)) {
    notes.push("⚠ load not delivered: the open-model client dropped or could not send its planned requests; those rows understate latency.");
  }
  notes.push("CPU used is the model containers' CPU seconds over the sampled window, against the budget (replicas × cpus); throttled is the share of CFS periods in which they were throttled.");
  notes.push("X-Worker evenness: coefficient of variation of replies over processes (and replicas); 0 is perfectly even.");
  return notes;
}
