import type { RowSummary, RunSummary } from "../measure/run-summary.js";
import type { SampleStats } from "../measure/stats.js";
import { DASH, num, pct } from "./format.js";
import { markdownTable } from "./markdown.js";

/** Two runs of the same cells side by side (e.g. before and after a change). */

export interface Delta {
  base: number | null;
  next: number | null;
  /** next - base */
  diff: number | null;
  /** 100 * diff / base */
  pct: number | null;
  /**
   * The two 95% confidence intervals do not overlap. Conservative (a real difference can still
   * overlap), but it needs no assumption beyond the ones the intervals already make.
   */
  distinct: boolean;
}

export interface ComparisonRow {
  key: string;
  model: string;
  topology: string;
  workload: string;
  group: string;
  loadModel: string;
  throughput: Delta;
  p50: Delta;
  p99: Delta;
  p999: Delta;
}

export interface Comparison {
  base: string;
  next: string;
  rows: ComparisonRow[];
  /** Keys present in only one run. */
  onlyInBase: string[];
  onlyInNext: string[];
}

export function delta(a: SampleStats, b: SampleStats): Delta {
  const diff = a.mean !== null && b.mean !== null ? b.mean - a.mean : null;
  return {
    base: a.mean,
    next: b.mean,
    diff,
    pct: diff !== null && a.mean ? (100 * diff) / a.mean : null,
    distinct: a.ci95 !== null && b.ci95 !== null && (b.ci95.low > a.ci95.high || b.ci95.high < a.ci95.low),
  };
}

export function compareRuns(base: RunSummary, next: RunSummary): Comparison {
  const nextByKey = new Map(next.rows.map((r) => [r.key, r]));
  const baseKeys = new Set(base.rows.map((r) => r.key));
  const rows: ComparisonRow[] = [];
  for (const a of base.rows) {
    const b: RowSummary | undefined = nextByKey.get(a.key);
    if (!b) continue;
    rows.push({
      key: a.key,
      model: a.model,
      topology: a.topology.id,
      workload: a.workload,
      group: a.group,
      loadModel: a.loadModel === b.loadModel ? a.loadModel : `${a.loadModel}→${b.loadModel}`,
      throughput: delta(a.throughput, b.throughput),
      p50: delta(a.latency.p50, b.latency.p50),
      p99: delta(a.latency.p99, b.latency.p99),
      p999: delta(a.latency.p999, b.latency.p999),
    });
  }
  return {
    base: base.runId,
    next: next.runId,
    rows,
    onlyInBase: base.rows.filter((r) => !nextByKey.has(r.key)).map((r) => r.key),
    onlyInNext: next.rows.filter((r) => !baseKeys.has(r.key)).map((r) => r.key),
  };
}

function deltaCell(d: Delta): string {
  if (d.diff === null) return `${num(d.base)} → ${num(d.next)}`;
  const sign = d.diff > 0 ? "+" : "";
  return `${num(d.base)} → ${num(d.next)} (${d.pct === null ? DASH : `${sign}${pct(d.pct)}`})${d.distinct ? " *" : ""}`;
}

export function renderComparisonMarkdown(c: Comparison): string {
  const out = [
    `# fiblab comparison: ${c.base} → ${c.next}`,
    "",
    "Means over repeats; * marks a change whose 95% confidence intervals do not overlap.",
    "",
    markdownTable(
      ["Workload / group", "Model", "Topology", "Load model", "Throughput req/s", "p50 ms", "p99 ms", "p99.9 ms"],
      c.rows.map((r) => [`${r.workload} / ${r.group}`, r.model, r.topology, r.loadModel, deltaCell(r.throughput), deltaCell(r.p50), deltaCell(r.p99), deltaCell(r.p999)]),
    ),
    "",
  ];
  if (c.onlyInBase.length > 0) out.push(`Only in ${c.base}: ${c.onlyInBase.join(", ")}`, "");
  if (c.onlyInNext.length > 0) out.push(`Only in ${c.next}: ${c.onlyInNext.join(", ")}`, "");
  return `${out.join("\n").trimEnd()}\n`;
}
