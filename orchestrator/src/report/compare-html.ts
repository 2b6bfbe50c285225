import type { RunSummary } from "../measure/run-summary.js";
import { compareRuns, type Comparison, type ComparisonRow, type Delta } from "./compare.js";
import { utcLabel } from "../archive/index-page.js";
import { DASH, num, pct } from "./format.js";
import { chartPage, escapeHtml, type HtmlAssets } from "./page.js";

/**
 * `lab compare <a> <b>` as one self-contained HTML page: the table of the Markdown comparison,
 * with the changes whose intervals do not overlap coloured by direction, and per workload/group
 * a throughput chart and a latency chart of both runs side by side. chart.js is inlined, as in
 * the run report, so the page needs no network (and works from file://).
 */

export interface CompareLinks {
  /** Relative hrefs from the page to each run's report.html and to results/index.html. */
  baseReport?: string;
  nextReport?: string;
  index?: string;
}

type Direction = "higher" | "lower";

/** "1200 → 1300 (+8.3%)", coloured when the change is distinct: better or worse by `good`. */
function deltaCell(d: Delta, good: Direction): string {
  const moved = d.diff === null ? "" : ` (${d.pct === null ? DASH : `${d.diff > 0 ? "+" : ""}${pct(d.pct)}`})`;
  const text = `${num(d.base)} → ${num(d.next)}${moved}`;
  if (!d.distinct || d.diff === null || d.diff === 0) return `<td>${escapeHtml(text)}</td>`;
  const better = good === "higher" ? d.diff > 0 : d.diff < 0;
  return `<td class="${better ? "better" : "worse"}" title="95% intervals do not overlap">${escapeHtml(text)} *</td>`;
}

const HEADER = ["Model", "Topology", "Load model", "Throughput req/s", "p50 ms", "p99 ms", "p99.9 ms", "Warnings"];

function rowHtml(r: ComparisonRow): string {
  return [
    "<tr>",
    `<td>${escapeHtml(r.model)}</td>`,
    `<td>${escapeHtml(r.topology)}</td>`,
    `<td>${escapeHtml(r.loadModel)}</td>`,
    deltaCell(r.throughput, "higher"),
    deltaCell(r.p50, "lower"),
    deltaCell(r.p99, "lower"),
    deltaCell(r.p999, "lower"),
    `<td>${r.warnings.length > 0 ? `<span class="warn">⚠ ${escapeHtml(r.warnings.join(", "))}</span>` : ""}</td>`,
    "</tr>",
  ].join("");
}

interface Section {
  id: string;
  title: string;
  rows: ComparisonRow[];
}

function sectionsOf(c: Comparison): Section[] {
  const out: Section[] = [];
  for (const r of c.rows) {
    const title = `${r.workload} / ${r.group}`;
    let s = out.find((x) => x.title === title);
    if (!s) {
      s = { id: `cmp-${out.length}`, title, rows: [] };
      out.push(s);
    }
    s.rows.push(r);
  }
  return out;
}

/** What the page's script draws: only series with at least one value (an empty chart is a bug). */
interface ChartSpec {
  id: string;
  kind: "throughput" | "latency";
  title: string;
  labels: string[];
  datasets: { label: string; data: (number | null)[]; run: "base" | "next"; metric: string }[];
}

const hasData = (spec: ChartSpec) => spec.datasets.some((d) => d.data.some((v) => v !== null && Number.isFinite(v)));

function chartSpecs(s: Section, c: Comparison): ChartSpec[] {
  const labels = s.rows.map((r) => `${r.model} · ${r.topology}`);
  const side = (run: "base" | "next") => (run === "base" ? c.base : c.next);
  const tp: ChartSpec = {
    id: `${s.id}-tp`,
    kind: "throughput",
    title: `Throughput, mean over repeats (req/s): ${s.title}`,
    labels,
    datasets: (["base", "next"] as const).map((run) => ({
      label: side(run),
      data: s.rows.map((r) => r.throughput[run]),
      run,
      metric: "throughput",
    })),
  };
  const metrics = [
    ["p50", (r: ComparisonRow) => r.p50],
    ["p99", (r: ComparisonRow) => r.p99],
    ["p99.9", (r: ComparisonRow) => r.p999],
  ] as const;
  const lat: ChartSpec = {
    id: `${s.id}-lat`,
    kind: "latency",
    title: `Latency of the merged histograms (ms, log scale): ${s.title}`,
    labels,
    datasets: metrics.flatMap(([metric, get]) =>
      (["base", "next"] as const).map((run) => ({ label: `${metric} ${side(run)}`, data: s.rows.map((r) => get(r)[run]), run, metric })),
    ),
  };
  return [tp, lat].filter(hasData);
}

// Runs in the page: one bar chart per spec; the base run in light shades, the next in dark.
const DRAW = `
(function () {
  var shades = { throughput: ["#a0cbe8", "#4e79a7"], p50: ["#ffbe7d", "#f28e2b"], p99: ["#ff9d9a", "#e15759"], "p99.9": ["#d4a6c8", "#b07aa1"] };
  var specs = JSON.parse(document.getElementById("fiblab-compare-data").textContent);
  specs.forEach(function (s) {
    new Chart(document.getElementById(s.id), {
      type: "bar",
      data: {
        labels: s.labels,
        datasets: s.datasets.map(function (d) {
          return { label: d.label, data: d.data, backgroundColor: shades[d.metric][d.run === "base" ? 0 : 1] };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: { title: { display: true, text: s.title } },
        scales: s.kind === "latency"
          ? { y: { type: "logarithmic", title: { display: true, text: "ms (log scale)" } } }
          : { y: { beginAtZero: true, title: { display: true, text: "req/s" } } },
      },
    });
  });
})();
`;

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td:nth-child(n+4) { font-variant-numeric: tabular-nums; white-space: nowrap; }
td.better { background: #e6f4ea; color: #0a6b2d; font-weight: 600; }
td.worse { background: #fce8e6; color: #b3261e; font-weight: 600; }
.warn { color: #8a5a00; }
.warning { background: #fff4e0; border-left: 4px solid #e08a00; padding: 0.4rem 0.6rem; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.chart { position: relative; height: 320px; }
section { border-top: 1px solid #ddd; margin-top: 1.5rem; }
nav a { margin-right: 1rem; }
`;

function runLine(label: string, run: RunSummary, href: string | undefined): string {
  const id = href ? `<a href="${escapeHtml(href)}">${escapeHtml(run.runId)}</a>` : escapeHtml(run.runId);
  const commit = run.environment.gitCommit ? `, commit <code>${escapeHtml(run.environment.gitCommit.slice(0, 12))}</code>` : "";
  const cells = `${run.cells.length} cell${run.cells.length === 1 ? "" : "s"}`;
  return `<li>${label}: ${id} (${escapeHtml(run.scenario)}, started ${escapeHtml(utcLabel(run.startedAt))}, ${cells}${commit})</li>`;
}

function headerHtml(base: RunSummary, next: RunSummary, links: CompareLinks): string[] {
  const out: string[] = [];
  if (links.index) out.push(`<nav><a href="${escapeHtml(links.index)}">← all runs</a></nav>`);
  out.push(`<h1>${escapeHtml(`fiblab comparison: ${base.runId} → ${next.runId}`)}</h1>`);
  out.push("<ul>", runLine("Base", base, links.baseReport), runLine("Next", next, links.nextReport), "</ul>");
  if (base.scenario !== next.scenario) {
    out.push(
      `<p class="warning">${escapeHtml(`Different scenarios (${base.scenario}, ${next.scenario}): only rows with the same key are compared.`)}</p>`,
    );
  }
  out.push(
    "<p>Throughput: mean over repeats. Percentiles: of each run's histogram merged over all its repeats (never a mean of percentiles). " +
      "A coloured cell marked * is a change whose 95% intervals of the per-repeat values do not overlap (for a percentile, of each repeat's own " +
      "percentile): green where the next run is better, red where it is worse. With one repeat per run no interval exists, so nothing is marked.</p>",
  );
  return out;
}

function sectionHtml(s: Section, specs: ChartSpec[]): string[] {
  const th = HEADER.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const charts = specs.map((spec) => `<div class="chart"><canvas id="${escapeHtml(spec.id)}"></canvas></div>`).join("");
  return [
    "<section>",
    `<h2>${escapeHtml(s.title)}</h2>`,
    `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${s.rows.map(rowHtml).join("\n")}\n</tbody>\n</table>`,
    specs.length > 0 ? `<div class="charts">${charts}</div>` : "<p>No figures to chart: no row succeeded in either run.</p>",
    "</section>",
  ];
}

export function renderComparisonHtml(base: RunSummary, next: RunSummary, assets: HtmlAssets, links: CompareLinks = {}): string {
  const c = compareRuns(base, next);
  const body = headerHtml(base, next, links);
  const specs: ChartSpec[] = [];
  for (const s of sectionsOf(c)) {
    const mine = chartSpecs(s, c);
    specs.push(...mine);
    body.push(...sectionHtml(s, mine));
  }
  if (c.rows.length === 0) body.push("<p>The two runs have no row in common.</p>");
  if (c.onlyInBase.length > 0) body.push(`<p>Only in ${escapeHtml(c.base)}: ${c.onlyInBase.map(escapeHtml).join(", ")}</p>`);
  if (c.onlyInNext.length > 0) body.push(`<p>Only in ${escapeHtml(c.next)}: ${c.onlyInNext.map(escapeHtml).join(", ")}</p>`);
  const title = `fiblab comparison: ${c.base} → ${c.next}`;
  return chartPage({ title, style: STYLE, body, data: { "fiblab-compare-data": specs }, draw: DRAW }, assets);
}
