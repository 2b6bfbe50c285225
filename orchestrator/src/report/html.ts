import type { RunSummary } from "../measure/run-summary.js";
import { formatDuration } from "../scenario/duration.js";
import type { RowSummary } from "../measure/run-summary.js";
import {
  environmentLines,
  latencyBasis,
  problemLines,
  methodNotes,
  requestLabel,
  sections,
  sendLagLines,
  coldStartLines,
  eventNotes,
  eventRows,
  EVENTS_HEADER,
  TABLE_HEADER,
  tableRow,
} from "./format.js";
import { TIMELINE_DRAW, timelineCharts, timelineHtml } from "./timeline.js";

/**
 * The run as one self-contained HTML page: the tables of the Markdown report plus charts drawn by
 * chart.js, whose UMD build is inlined so the page needs no network when viewed (read it with
 * readChartJs() in chartjs.ts).
 */
export interface HtmlAssets {
  /** Text of chart.js's UMD build. */
  chartJs: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Inside <script>, only "</script" (and "<!--") can end the element early. */
function scriptSafe(js: string): string {
  return js.replace(/<\/script/gi, "<\\/script").replace(/<!--/g, "<\\!--");
}

function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

interface ChartSection {
  id: string;
  title: string;
  loadModel: string;
  labels: string[];
  throughput: { mean: (number | null)[]; range: ([number, number] | null)[]; sd: (number | null)[] };
  /** Percentiles of the histogram merged over all repeats, and each repeat's own range. */
  latency: { label: string; values: (number | null)[]; range: ([number, number] | null)[] }[];
}

const PERCENTILE_LABELS = ["p50", "p90", "p99", "p99.9", "max"];

function chartData(run: RunSummary): ChartSection[] {
  return sections(run).map((s, i) => ({
    id: `chart-${i}`,
    title: `${s.workload} / ${s.group}`,
    loadModel: s.rows[0]?.loadModel ?? "",
    labels: s.rows.map((r) => `${r.model} · ${r.topology.id}`),
    throughput: {
      mean: s.rows.map((r) => r.throughput.mean),
      range: s.rows.map((r) => (r.throughput.min !== null && r.throughput.max !== null ? [r.throughput.min, r.throughput.max] : null)),
      sd: s.rows.map((r) => r.throughput.stdev),
    },
    latency: s.rows.map(latencySeries),
  }));
}

const PERCENTILE_KEYS = ["p50", "p90", "p99", "p999", "max"] as const;

function latencySeries(r: RowSummary): ChartSection["latency"][number] {
  return {
    label: `${r.model} · ${r.topology.id}`,
    values: PERCENTILE_KEYS.map((k) => (r.latency ? r.latency[k] : null)),
    range: PERCENTILE_KEYS.map((k) => {
      const s = r.latencySpread[k];
      return s.n >= 2 && s.min !== null && s.max !== null ? [s.min, s.max] : null;
    }),
  };
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join("");
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("\n");
  return `<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${trs}\n</tbody>\n</table>`;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.85rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td:nth-child(n+4) { font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
details { margin: 0.5rem 0; } summary { cursor: pointer; font-weight: 600; }
.chart { position: relative; height: 320px; }
.model-open { color: #0a5; } .model-closed { color: #a50; }
.warning { background: #fff4e0; border-left: 4px solid #e08a00; padding: 0.4rem 0.6rem; }
section { border-top: 1px solid #ddd; margin-top: 1.5rem; }
`;

// Runs in the page: draws each section's charts from the embedded data.
const DRAW = `
(function () {
  var palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  var data = JSON.parse(document.getElementById("fiblab-data").textContent);
  data.forEach(function (s) {
    new Chart(document.getElementById(s.id + "-tp"), {
      type: "bar",
      data: {
        labels: s.labels,
        datasets: [
          { label: "throughput, mean over repeats (req/s)", data: s.throughput.mean, backgroundColor: palette[0] },
          { label: "min–max over repeats", data: s.throughput.range, backgroundColor: "#333", barPercentage: 0.08, grouped: false },
        ],
      },
      options: {
        // A report is read, printed and screenshotted: draw the final values at once.
        animation: false,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: "Throughput (" + s.loadModel + " model)" },
          tooltip: { callbacks: { afterLabel: function (ctx) { var sd = s.throughput.sd[ctx.dataIndex]; return ctx.datasetIndex === 0 && sd !== null ? "sd " + sd.toFixed(1) : ""; } } },
        },
        scales: { y: { beginAtZero: true, title: { display: true, text: "req/s" } } },
      },
    });
    new Chart(document.getElementById(s.id + "-lat"), {
      type: "line",
      data: {
        labels: ${JSON.stringify(PERCENTILE_LABELS)},
        datasets: s.latency.map(function (l, i) {
          return { label: l.label, data: l.values, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], tension: 0 };
        }),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: "Latency percentiles of all repeats' requests, one merged histogram (" + s.loadModel + " model)" },
          tooltip: { callbacks: { afterLabel: function (ctx) { var r = s.latency[ctx.datasetIndex].range[ctx.dataIndex]; return r ? "repeats " + r[0].toFixed(2) + "–" + r[1].toFixed(2) + " ms" : ""; } } },
        },
        scales: { y: { type: "logarithmic", title: { display: true, text: "ms (log scale)" } } },
      },
    });
  });
})();
`;

/** The events table and the timelines' sections, and the timelines' data script (empty without any). */
function eventsAndTimelines(run: RunSummary): { body: string[]; script: string } {
  const body: string[] = [];
  const events = eventRows(run);
  if (events.length > 0) {
    body.push("<section>", "<h2>Events</h2>", "<ul>", ...eventNotes().map((n) => `<li>${escapeHtml(n)}</li>`), "</ul>");
    body.push(table(EVENTS_HEADER, events), "</section>");
  }
  const timelines = timelineCharts(run);
  body.push(...timelineHtml(timelines, escapeHtml));
  const script = timelines.length > 0 ? `<script id="fiblab-timelines" type="application/json">${jsonForScript(timelines)}</script>\n` : "";
  return { body, script };
}

export function renderHtml(run: RunSummary, assets: HtmlAssets): string {
  const title = `fiblab run ${run.runId}: ${run.scenario}`;
  const failed = run.cells.filter((c) => c.status !== "ok").length;
  const body: string[] = [];
  body.push(`<h1>${escapeHtml(title)}</h1>`);
  if (run.description) body.push(`<p>${escapeHtml(run.description)}</p>`);
  body.push(
    `<p>Started ${escapeHtml(run.startedAt)}, finished ${escapeHtml(run.finishedAt)}. ${run.cells.length} cells${
      failed > 0 ? ` (${failed} failed)` : ""
    }, run in a random order from seed ${run.seed}.</p>`,
  );
  for (const p of problemLines(run)) body.push(`<p class="warning">${escapeHtml(p)}</p>`);
  body.push("<h2>Environment</h2>");
  const env = environmentLines(run);
  body.push(env.length > 0 ? table(["", ""], env) : "<p>Not recorded.</p>");
  body.push("<h2>How to read these figures</h2>", "<ul>", ...methodNotes(run).map((n) => `<li>${escapeHtml(n)}</li>`), "</ul>");
  if (run.notes.length > 0) body.push("<ul>", ...run.notes.map((n) => `<li>${escapeHtml(n)}</li>`), "</ul>");

  const charts = chartData(run);
  sections(run).forEach((s, i) => {
    const first = s.rows[0];
    const id = charts[i]?.id ?? `chart-${i}`;
    if (!first) return;
    body.push(`<section>`, `<h2>${escapeHtml(`${s.workload} / ${s.group}`)}</h2>`);
    body.push(
      `<p>${escapeHtml(first.protocol.toUpperCase())}, <span class="model-${first.loadModel}">${escapeHtml(first.loadModel)} model</span> via ${escapeHtml(first.tool)} (${escapeHtml(latencyBasis(first.tool, first.loadModel))}), request ${escapeHtml(requestLabel(first))}, ` +
        `${first.clients.count} client(s) × ${first.clients.cpus} cpu, ${formatDuration(first.durationMs)} measured after ${formatDuration(first.warmupMs)} warm-up.</p>`,
    );
    const rows = s.rows.map(tableRow);
    body.push(
      table(
        TABLE_HEADER,
        rows.map((r) => r.cells),
      ),
    );
    const starts = coldStartLines(s.rows);
    if (starts.length > 0) {
      body.push(
        "<p>Cold start (from <code>up</code> to the first correct answer through the front):</p>",
        "<ul>",
        ...starts.map((l) => `<li>${escapeHtml(l)}</li>`),
        "</ul>",
      );
    }
    const lags = sendLagLines(s.rows);
    if (lags.length > 0) {
      body.push(
        "<p>Client send lag (how late sends left behind their intended time; it is inside the latency above):</p>",
        "<ul>",
        ...lags.map((l) => `<li>${escapeHtml(l)}</li>`),
        "</ul>",
      );
    }
    const notes = s.rows.flatMap((r, j) => (rows[j]?.notes ?? []).map((n) => `${r.model} ${r.topology.id}: ${n}`));
    if (notes.length > 0) body.push("<ul>", ...notes.map((n) => `<li>${escapeHtml(n)}</li>`), "</ul>");
    body.push(
      `<div class="charts"><div class="chart"><canvas id="${id}-tp"></canvas></div><div class="chart"><canvas id="${id}-lat"></canvas></div></div>`,
      `</section>`,
    );
  });

  const extra = eventsAndTimelines(run);
  body.push(...extra.body);

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body.join("\n")}
<script id="fiblab-data" type="application/json">${jsonForScript(charts)}</script>
${extra.script}<script>${scriptSafe(assets.chartJs)}</script>
<script>${DRAW}${TIMELINE_DRAW}</script>
</body>
</html>
`;
}
