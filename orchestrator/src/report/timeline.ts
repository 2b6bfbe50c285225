import type { RunSummary, Timeline } from "../measure/run-summary.js";
import type { TimeSeries } from "../measure/timeseries.js";

/**
 * The HTML report's timelines: per cell key, one repeat second by second (throughput and errors,
 * p50 and p99 per group; the model's CPU, throttling and memory; running and healthy replicas,
 * processes, distinct X-Workers), every scripted event marked by a vertical line (a band while
 * the action lasted) drawn by a small inline chart.js plugin: nothing fetched, no plugin package.
 */

export interface TimelineChart {
  id: string;
  title: string;
  /** Events: start and end in seconds of the window, and a label. */
  events: { at: number; end: number; label: string }[];
  groups: {
    name: string;
    loadModel: string;
    ok: number[];
    errors: number[];
    p50: (number | null)[];
    p99: (number | null)[];
    workers: (number | null)[] | null;
  }[];
  model: {
    cores: (number | null)[];
    throttledPct: (number | null)[];
    memoryMiB: (number | null)[];
    running: (number | null)[];
    healthy: (number | null)[];
    pids: (number | null)[];
    restarts: number[];
  };
}

const round = (x: number | null, digits = 3) => (x === null ? null : Number(x.toFixed(digits)));

function modelColumns(ts: TimeSeries): TimelineChart["model"] {
  return {
    cores: ts.model.cores.map((x) => round(x)),
    throttledPct: ts.model.throttledShare.map((x) => round(x === null ? null : 100 * x, 1)),
    memoryMiB: ts.model.memoryBytes.map((x) => round(x === null ? null : x / 2 ** 20, 1)),
    running: ts.model.running,
    healthy: ts.healthyReplicas,
    pids: ts.model.pids,
    restarts: ts.model.restarts,
  };
}

export function timelineChart(t: Timeline, i: number): TimelineChart {
  const ts = t.timeseries;
  return {
    id: `timeline-${i}`,
    title: `${t.model} · ${t.topology.id} · ${t.workload} (repeat ${t.repeat})`,
    events: t.events.map((e) => ({
      at: e.atSecond,
      end: e.atSecond + e.durationMs / 1000,
      label: `#${e.index} ${e.action}${e.error !== undefined ? " (failed)" : ""}`,
    })),
    groups: ts.groups.map((g) => ({
      name: g.group,
      loadModel: g.loadModel,
      ok: g.ok,
      errors: g.errors,
      p50: g.p50.map((x) => round(x)),
      p99: g.p99.map((x) => round(x)),
      workers: g.workers ?? null,
    })),
    model: modelColumns(ts),
  };
}

export function timelineCharts(run: RunSummary): TimelineChart[] {
  return run.timelines.map(timelineChart);
}

/** The page's markup for the timelines: those with events open, the others folded. */
export function timelineHtml(charts: readonly TimelineChart[], escape: (s: string) => string): string[] {
  if (charts.length === 0) return [];
  const out = [
    "<section>",
    "<h2>Timelines</h2>",
    "<p>Second by second over the measurement window (second 0 = its start), one repeat per model × topology × workload. Throughput is ok replies per second (requests counted in the second they started); p50 and p99 are read from each second's histogram merged over the group's clients. Vertical lines mark scripted events (a band while the action lasted).</p>",
  ];
  for (const c of charts) {
    const canvases = ["tp", "lat", "cpu", "live"].map((k) => `<div class="chart"><canvas id="${c.id}-${k}"></canvas></div>`).join("");
    const events = c.events.length > 0 ? ` — events: ${c.events.map((e) => escape(e.label)).join(", ")}` : "";
    out.push(
      `<details${c.events.length > 0 ? " open" : ""}><summary>${escape(c.title)}${events}</summary>`,
      `<div class="charts">${canvases}</div>`,
      "</details>",
    );
  }
  out.push("</section>");
  return out;
}

// Runs in the page after chart.js: draws every timeline from the embedded data.
export const TIMELINE_DRAW = `
(function () {
  var el = document.getElementById("fiblab-timelines");
  if (!el || !el.textContent) return;
  var palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  var timelines = JSON.parse(el.textContent);
  function points(values) {
    return values.map(function (v, i) { return { x: i + 0.5, y: v }; });
  }
  function markers(events) {
    return {
      id: "fiblabEvents",
      afterDatasetsDraw: function (chart) {
        var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
        ctx.save();
        events.forEach(function (e) {
          var a = x.getPixelForValue(e.at), b = x.getPixelForValue(e.end);
          if (b - a > 2) { ctx.fillStyle = "rgba(200, 0, 0, 0.08)"; ctx.fillRect(a, area.top, b - a, area.bottom - area.top); }
          ctx.strokeStyle = "#c00"; ctx.lineWidth = 1; ctx.setLineDash([4, 3]);
          ctx.beginPath(); ctx.moveTo(a, area.top); ctx.lineTo(a, area.bottom); ctx.stroke();
          ctx.setLineDash([]); ctx.fillStyle = "#c00"; ctx.font = "11px sans-serif"; ctx.fillText(e.label, a + 3, area.top + 11);
        });
        ctx.restore();
      },
    };
  }
  function line(label, values, color, extra) {
    var d = { label: label, data: points(values), borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 1.5, tension: 0, spanGaps: false };
    for (var k in extra || {}) d[k] = extra[k];
    return d;
  }
  function chart(id, title, datasets, scales, events) {
    var x = { type: "linear", min: 0, max: datasets.reduce(function (m, d) { return Math.max(m, d.data.length); }, 0), title: { display: true, text: "seconds since measurement start" } };
    scales.x = x;
    new Chart(document.getElementById(id), {
      type: "line",
      data: { datasets: datasets },
      options: { animation: false, maintainAspectRatio: false, parsing: false, interaction: { mode: "nearest", axis: "x", intersect: false }, plugins: { title: { display: true, text: title } }, scales: scales },
      plugins: [markers(events)],
    });
  }
  timelines.forEach(function (t) {
    var tp = [], lat = [];
    t.groups.forEach(function (g, i) {
      var c = palette[i % palette.length];
      tp.push(line(g.name + " ok/s (" + g.loadModel + ")", g.ok, c));
      tp.push(line(g.name + " errors/s", g.errors, c, { borderDash: [5, 4] }));
      lat.push(line(g.name + " p99", g.p99, c));
      lat.push(line(g.name + " p50", g.p50, c, { borderDash: [2, 3] }));
    });
    chart(t.id + "-tp", "Throughput and errors per second", tp, { y: { beginAtZero: true, title: { display: true, text: "req/s" } } }, t.events);
    chart(t.id + "-lat", "Latency per second (merged histograms)", lat, { y: { type: "logarithmic", title: { display: true, text: "ms (log scale)" } } }, t.events);
    var m = t.model;
    chart(t.id + "-cpu", "Model containers: CPU, throttling, memory", [
      line("cores used", m.cores, palette[0]),
      line("throttled % of CFS periods", m.throttledPct, palette[2], { yAxisID: "pct" }),
      line("memory MiB", m.memoryMiB, palette[4], { yAxisID: "mem", hidden: true }),
    ], {
      y: { beginAtZero: true, title: { display: true, text: "cores" } },
      pct: { position: "right", min: 0, max: 100, title: { display: true, text: "%" }, grid: { drawOnChartArea: false } },
      mem: { position: "right", display: "auto", beginAtZero: true, title: { display: true, text: "MiB" }, grid: { drawOnChartArea: false } },
    }, t.events);
    var live = [
      line("replicas running", m.running, palette[0], { stepped: true }),
      line("replicas healthy", m.healthy, palette[4], { stepped: true, borderDash: [5, 4] }),
      line("restarts", m.restarts, palette[2], { stepped: true }),
      line("processes + threads (pids)", m.pids, palette[1], { yAxisID: "n" }),
    ];
    t.groups.forEach(function (g, i) { if (g.workers) live.push(line(g.name + " X-Workers answering", g.workers, palette[(i + 5) % palette.length], { stepped: true })); });
    chart(t.id + "-live", "Live replicas, processes and workers", live, {
      y: { beginAtZero: true, grace: "10%", ticks: { precision: 0 }, title: { display: true, text: "replicas, restarts, X-Workers" } },
      n: { position: "right", beginAtZero: true, grace: "10%", title: { display: true, text: "processes + threads" }, grid: { drawOnChartArea: false } },
    }, t.events);
  });
})();
`;
