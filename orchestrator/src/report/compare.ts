import type { RowSummary, RunSummary } from "../measure/run-summary.js";
import type { LatencySummary } from "../measure/histogram.js";
import type { SampleStats } from "../measure/stats.js";
import { DASH, num, pct } from "./format.js";
import { markdownTable } from "./markdown.js";

/** Two runs of the same cells side by side (e.g. before and after a change). */

export interface Delta {
  /** Throughput: the mean over repeats. Percentiles: the histogram merged over all repeats. */
  base: number | null;
  next: number | null;
  /** next - base */
  diff: number | null;
  /** 100 * diff / base */
  pct: number | null;
  /**
   * The two 95% intervals of the per-repeat values do not overlap (for a percentile: of each
   * repeat's own percentile, and the merged figures moved the same way). Conservative (a real
   * difference can still overlap), but it needs no assumption beyond the ones the intervals make.
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
  /** Either side client-bound or on a busy machine: the change may not be the server's. */
  warnings: string[];
}

export interface Comparison {
  base: string;
  next: string;
  rows: ComparisonRow[];
  /** Keys present in only one run. */
  onlyInBase: string[];
  onlyInNext: string[];
}

type Interval = { low: number; high: number } | null;

function disjoint(a: Interval, b: Interval, diff: number | null): boolean {
  if (a === null || b === null || diff === null) return false;
  if (b.low > a.high) return diff > 0;
  if (b.high < a.low) return diff < 0;
  return false;
}

function deltaOf(base: number | null, next: number | null, a: Interval, b: Interval): Delta {
  const diff = base !== null && next !== null ? next - base : null;
  return { base, next, diff, pct: diff !== null && base ? (100 * diff) / base : null, distinct: disjoint(a, b, diff) };
}

/** A rate across repeats: means and their confidence intervals. */
export function delta(a: SampleStats, b: SampleStats): Delta {
  return deltaOf(a.mean, b.mean, a.ci95, b.ci95);
}

type PercentileKey = "p50" | "p99" | "p999";

/** A percentile: the merged figures, judged by the spread of the per-repeat values. */
export function percentileDelta(a: RowSummary, b: RowSummary, key: PercentileKey): Delta {
  const merged = (l: LatencySummary | null) => (l ? l[key] : null);
  return deltaOf(merged(a.latency), merged(b.latency), a.latencySpread[key].ci95, b.latencySpread[key].ci95);
}

function warnings(a: RowSummary, b: RowSummary, names: [string, string]): string[] {
  const out: string[] = [];
  [a, b].forEach((r, i) => {
    if (r.clientBoundRepeats > 0) out.push(`client-bound in ${names[i]}`);
    if (r.machineBusyRepeats > 0) out.push(`machine busy in ${names[i]}`);
  });
  return out;
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
      p50: percentileDelta(a, b, "p50"),
      p99: percentileDelta(a, b, "p99"),
      p999: percentileDelta(a, b, "p999"),
      warnings: warnings(a, b, ["base", "next"]),
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
    "Throughput: mean over repeats. Percentiles: of each run's histogram merged over all its repeats (never a mean of percentiles). " +
      "* marks a change whose 95% intervals of the per-repeat values do not overlap (for a percentile, each repeat's own percentile).",
    "",
    markdownTable(
      ["Workload / group", "Model", "Topology", "Load model", "Throughput req/s", "p50 ms", "p99 ms", "p99.9 ms", "Warnings"],
      c.rows.map((r) => [
        `${r.workload} / ${r.group}`,
        r.model,
        r.topology,
        r.loadModel,
        deltaCell(r.throughput),
        deltaCell(r.p50),
        deltaCell(r.p99),
        deltaCell(r.p999),
        r.warnings.length > 0 ? `⚠ ${r.warnings.join(", ")}` : "",
      ]),
    ),
    "",
  ];
  if (c.onlyInBase.length > 0) out.push(`Only in ${c.base}: ${c.onlyInBase.join(", ")}`, "");
  if (c.onlyInNext.length > 0) out.push(`Only in ${c.next}: ${c.onlyInNext.join(", ")}`, "");
  return `${out.join("\n").trimEnd()}\n`;
}
