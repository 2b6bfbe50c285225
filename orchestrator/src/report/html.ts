import type { RowSummary, RunSummary } from "../measure/run-summary.js";
import { environmentLines, eventsTable, methodNotes, problemLines, reportSections, runHeadline, sections, TABLE_HEADER } from "./format.js";
import { placementLines } from "../measure/placement.js";
import { referenceTables } from "./reference.js";
import { chartPage, escapeHtml, type HtmlAssets } from "./page.js";
import { SPREAD_DRAW, spreadChart, spreadHtml, type SpreadChart } from "./spread.js";
import { TIMELINE_DRAW, type TimelineChart, timelineCharts, timelineHtml } from "./timeline.js";

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

/** The events table and the timelines' sections, and the timelines' data (undefined without any). */
function eventsAndTimelines(run: RunSummary): { body: string[]; timelines: TimelineChart[] | undefined } {
  const body: string[] = [];
  const events = eventsTable(run);
  if (events) {
    body.push("<section>", "<h2>Events</h2>", "<ul>", ...events.notes.map((n) => `<li>${escapeHtml(n)}</li>`), "</ul>");
    body.push(table(events.header, events.rows), "</section>");
  }
  const timelines = timelineCharts(run);
  body.push(...timelineHtml(timelines, escapeHtml));
  return { body, timelines: timelines.length > 0 ? timelines : undefined };
}

/**
 * The run as one self-contained HTML page: the tables of the Markdown report plus charts drawn by
 * chart.js, whose UMD build is inlined so the page needs no network when viewed (read it with
 * readChartJs() in chartjs.ts).
 */
export function renderHtml(run: RunSummary, assets: HtmlAssets): string {
  const title = `fiblab run ${run.runId}: ${run.scenario}`;
  const body: string[] = [];
  const list = (items: readonly string[]) => ["<ul>", ...items.map((l) => `<li>${escapeHtml(l)}</li>`), "</ul>"];
  body.push(`<h1>${escapeHtml(title)}</h1>`);
  if (run.description) body.push(`<p>${escapeHtml(run.description)}</p>`);
  body.push(`<p>${escapeHtml(runHeadline(run))}</p>`);
  for (const p of problemLines(run)) body.push(`<p class="warning">${escapeHtml(p)}</p>`);
  body.push("<h2>Environment</h2>");
  const env = environmentLines(run);
  body.push(env.length > 0 ? table(["", ""], env) : "<p>Not recorded.</p>");
  const placed = placementLines(run.cells);
  if (placed.length > 0) body.push("<h2>Placement</h2>", ...list(placed));
  body.push("<h2>How to read these figures</h2>", ...list(methodNotes(run)));
  if (run.notes.length > 0) body.push(...list(run.notes));

  const charts = chartData(run);
  const spreads: SpreadChart[] = [];
  const rows = sections(run);
  reportSections(run).forEach((s, i) => {
    const id = charts[i]?.id ?? `chart-${i}`;
    const { protocol, loadModel } = s.first;
    body.push(`<section>`, `<h2>${escapeHtml(s.title)}</h2>`);
    body.push(
      `<p>${escapeHtml(protocol.toUpperCase())}, <span class="model-${loadModel}">${escapeHtml(loadModel)} model</span> ${escapeHtml(s.load)}</p>`,
    );
    body.push(table(TABLE_HEADER, s.table));
    if (s.coldStarts.length > 0) {
      body.push("<p>Cold start (from <code>up</code> to the first correct answer through the front):</p>", ...list(s.coldStarts));
    }
    if (s.sendLags.length > 0) {
      body.push(
        "<p>Client send lag (how late sends left behind their intended time; it is inside the latency above):</p>",
        ...list(s.sendLags),
      );
    }
    if (s.notes.length > 0) body.push(...list(s.notes));
    body.push(
      `<div class="charts"><div class="chart"><canvas id="${id}-tp"></canvas></div><div class="chart"><canvas id="${id}-lat"></canvas></div></div>`,
    );
    const mine = (rows[i]?.rows ?? []).flatMap((r, j) => spreadChart(r, `${id}-spread-${j}`) ?? []);
    spreads.push(...mine);
    body.push(...spreadHtml(mine), `</section>`);
  });

  for (const t of referenceTables(run)) {
    body.push("<section>", `<h2>${escapeHtml(t.title)}</h2>`, ...list(t.notes), table(t.header, t.rows), "</section>");
  }
  const extra = eventsAndTimelines(run);
  body.push(...extra.body);
  return chartPage(
    {
      title,
      style: STYLE,
      body,
      data: { "fiblab-data": charts, "fiblab-spread": spreads.length > 0 ? spreads : undefined, "fiblab-timelines": extra.timelines },
      draw: `${DRAW}${SPREAD_DRAW}${TIMELINE_DRAW}`,
    },
    assets,
  );
}
