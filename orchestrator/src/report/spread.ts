import { evenness, rollUp } from "../measure/cell-summary.js";
import type { RowSummary } from "../measure/run-summary.js";

/**
 * The HTML report's spread charts: per row with X-Worker counts (HTTP), the replies each process
 * (and, with several replicas, each replica) answered in one repeat, beside the mean: how the
 * balancing (the kernel's accept queue, SO_REUSEPORT, a cluster primary, the front) shared the work.
 */

export interface SpreadChart {
  id: string;
  title: string;
  replicaTitle: string;
  /** Processes grouped by replica ("r1 · pid 7"), with the replica's index for colouring. */
  processes: { label: string; replica: number; count: number }[];
  /** Per replica, with the replicas the topology had that never answered as 0; empty for one replica. */
  replicas: { label: string; count: number }[];
  meanPerProcess: number;
  meanPerReplica: number | null;
}

const ratio = (x: number | undefined) => (x === undefined ? "—" : x.toFixed(2));

/** One row's chart from its first repeat with counts; undefined without any. */
export function spreadChart(r: RowSummary, id: string): SpreadChart | undefined {
  const first = r.spread[0];
  if (!first) return undefined;
  const byReplica = rollUp(first.byProcess, 1);
  const hosts = Object.keys(byReplica).sort();
  const processes = Object.entries(first.byProcess)
    .map(([unit, count]) => {
      const [host = "", pid = "?"] = unit.split("/");
      const replica = hosts.indexOf(host) + 1;
      return { label: `r${replica} · pid ${pid}`, replica, count, pid: Number(pid) };
    })
    .sort((a, b) => a.replica - b.replica || a.pid - b.pid)
    .map(({ label, replica, count }) => ({ label, replica, count }));
  const replicas = hosts.map((h, i) => ({ label: `r${i + 1} (${h.slice(0, 12)})`, count: byReplica[h] ?? 0 }));
  for (let i = hosts.length; i < r.topology.replicas; i++) replicas.push({ label: `r${i + 1} (no reply)`, count: 0 });
  const procEven = evenness(first.byProcess);
  const replicaEven = r.topology.replicas > 1 ? evenness(byReplica, r.topology.replicas) : null;
  const total = processes.reduce((a, p) => a + p.count, 0);
  const title =
    `${r.model} · ${r.topology.id}: replies per process, repeat ${first.repeat} of ${r.repeats}` +
    ` (max/mean ${ratio(procEven?.maxMeanRatio)}${replicaEven ? `; over replicas ${ratio(replicaEven.maxMeanRatio)}` : ""})`;
  return {
    id,
    title,
    replicaTitle: `${r.model} · ${r.topology.id}: replies per replica, repeat ${first.repeat}`,
    processes,
    replicas: r.topology.replicas > 1 ? replicas : [],
    meanPerProcess: processes.length > 0 ? total / processes.length : 0,
    meanPerReplica: r.topology.replicas > 1 ? total / replicas.length : null,
  };
}

/** The canvases of a section's spread charts, folded under one heading; none without counts. */
export function spreadHtml(charts: readonly SpreadChart[]): string[] {
  if (charts.length === 0) return [];
  const canvases = charts.flatMap((c) => [
    `<div class="chart"><canvas id="${c.id}-proc"></canvas></div>`,
    ...(c.replicas.length > 0 ? [`<div class="chart"><canvas id="${c.id}-rep"></canvas></div>`] : []),
  ]);
  return [
    "<details open><summary>Work spread: replies per process and per replica (X-Worker), against the mean</summary>",
    `<div class="charts">${canvases.join("")}</div>`,
    "</details>",
  ];
}

// Runs in the page after chart.js: one bar chart per row of replies per process (coloured by replica), one per replica.
export const SPREAD_DRAW = `
(function () {
  var el = document.getElementById("fiblab-spread");
  if (!el || !el.textContent) return;
  var palette = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  function bars(id, title, labels, counts, colors, mean) {
    new Chart(document.getElementById(id), {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { type: "bar", label: "replies", data: counts, backgroundColor: colors },
          { type: "line", label: "mean", data: labels.map(function () { return mean; }), borderColor: "#333", borderDash: [5, 4], pointRadius: 0, borderWidth: 1.5 },
        ],
      },
      options: { animation: false, maintainAspectRatio: false, plugins: { title: { display: true, text: title } }, scales: { y: { beginAtZero: true, title: { display: true, text: "replies" } } } },
    });
  }
  JSON.parse(el.textContent).forEach(function (c) {
    bars(c.id + "-proc", c.title, c.processes.map(function (p) { return p.label; }), c.processes.map(function (p) { return p.count; }),
      c.processes.map(function (p) { return palette[(p.replica - 1 + palette.length) % palette.length]; }), c.meanPerProcess);
    if (c.replicas.length > 0) {
      bars(c.id + "-rep", c.replicaTitle, c.replicas.map(function (p) { return p.label; }), c.replicas.map(function (p) { return p.count; }),
        c.replicas.map(function (p, i) { return palette[i % palette.length]; }), c.meanPerReplica);
    }
  });
})();
`;
