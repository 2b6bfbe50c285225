import type { ChartConfiguration } from "chart.js";
import { sections } from "../report/format.js";
import type { RowSummary, RunSummary } from "../measure/run-summary.js";

/**
 * The charts FINDINGS.md embeds, as chart.js configurations (pure: render.ts draws them in
 * headless Chromium and writes the PNGs). One set per workload and group: throughput with its
 * min–max over repeats, p50/p99 of the merged histogram, the share of the physical limit, and
 * measured against predicted p99. Rows are ordered so that a master topology sits beside its
 * replicas: by model family, CPU budget, replicas, model, workers.
 */

type Point = number | [number, number] | null;
export type BarConfig = ChartConfiguration<"bar", Point[], string | string[]>;

export interface FindingsChart {
  /** File name under charts/, e.g. "fib25-saturate.fib25.throughput.png". */
  file: string;
  title: string;
  /** CSS pixels; the PNG has 1.5 device pixels to each (render.ts). */
  width: number;
  height: number;
  config: BarConfig;
}

const ONE_CONTAINER = "#4e79a7";
const REPLICAS = "#f28e2b";
const PREDICTED = "#bab0ac";

/**
 * A model's family, for pairing: the hand-written Python models (py-prefork's master and its
 * one-process siblings py-sync, py-threads, …) are one family, Node's cluster and node-single are
 * one; a framework model (gunicorn-sync, uvicorn, …) is its own family, in both of its shapes.
 */
export function family(model: string): string {
  const m = /^(py|node)-/.exec(model);
  return m ? m[1]! : model;
}

export function pairOrder(a: RowSummary, b: RowSummary): number {
  const keys = (r: RowSummary): (string | number)[] => [
    family(r.model),
    r.cpuBudget,
    r.topology.replicas,
    r.model,
    r.topology.workers ?? 1,
    r.topology.id,
  ];
  const ka = keys(a);
  const kb = keys(b);
  for (let i = 0; i < ka.length; i++) {
    const x = ka[i]!;
    const y = kb[i]!;
    if (x !== y) return typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
  }
  return 0;
}

/** "model · topology", and a second line naming what makes the row's figures doubtful. */
export function rowLabel(r: RowSummary): string | string[] {
  const flags: string[] = [];
  if (r.noisy) flags.push("noisy");
  if (r.clientBoundRepeats > 0) flags.push("client-bound");
  if (r.machineBusyRepeats > 0) flags.push("machine busy");
  if (r.repeats === 0) flags.push("no ok repeat");
  const name = `${r.model} · ${r.topology.id}`;
  return flags.length > 0 ? [name, `(${flags.join(", ")})`] : name;
}

function loadText(r: RowSummary): string {
  if (r.load.model === "closed") return `closed, ${r.load.connections} connections`;
  if (r.relativeRate) return `open, ${r.relativeRate.percent}% of each shape's probed capacity`;
  return `open, ${r.load.rate} req/s`;
}

export function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, "_");
}

interface Section {
  run: RunSummary;
  name: string;
  rows: RowSummary[];
}

function chart(s: Section, kind: string, title: string, detail: string, config: Omit<BarConfig, "type">): FindingsChart {
  const width = Math.min(1800, Math.max(720, 160 + 110 * (config.data.labels?.length ?? 0)));
  const subtitle = `run ${s.run.runId} · ${detail}`;
  const options = config.options ?? {};
  return {
    file: `${slug(s.name)}.${kind}.png`,
    title: `${s.name}: ${title}`,
    width,
    height: 480,
    config: {
      type: "bar",
      data: config.data,
      options: {
        ...options,
        // Drawn once and photographed: final values at once, every label shown.
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        plugins: {
          title: { display: true, text: `${s.name}: ${title}`, font: { size: 16 } },
          subtitle: { display: true, text: subtitle, padding: { bottom: 8 } },
          legend: { position: "bottom" },
        },
        scales: { ...options.scales, x: { ticks: { autoSkip: false, maxRotation: 60 } } },
      },
    },
  };
}

const byShape = (rows: RowSummary[], f: (r: RowSummary) => number | null) => [
  { label: "one container", data: rows.map((r) => (r.topology.replicas === 1 ? f(r) : null)), backgroundColor: ONE_CONTAINER, order: 1 },
  { label: "replicas", data: rows.map((r) => (r.topology.replicas > 1 ? f(r) : null)), backgroundColor: REPLICAS, order: 1 },
];

function throughputChart(s: Section): FindingsChart {
  const range = (r: RowSummary): Point =>
    r.throughput.min !== null && r.throughput.max !== null ? [r.throughput.min, r.throughput.max] : null;
  const repeats = Math.max(...s.rows.map((r) => r.repeats));
  return chart(s, "throughput", "throughput (req/s)", `${loadText(s.rows[0]!)} · bars: mean of ${repeats} repeat(s), black: min–max`, {
    data: {
      labels: s.rows.map(rowLabel),
      datasets: [
        ...byShape(s.rows, (r) => r.throughput.mean),
        // order 0 is drawn last: the range over the mean's bar, not behind it.
        { label: "min–max over repeats", data: s.rows.map(range), backgroundColor: "#222", barPercentage: 0.06, grouped: false, order: 0 },
      ],
    },
    options: { skipNull: true, scales: { y: { beginAtZero: true, title: { display: true, text: "req/s" } } } },
  });
}

/** A log axis's floor: a power of ten at least half a decade under the smallest bar, so every bar shows. */
export function logFloor(values: readonly (number | null)[]): number | undefined {
  const positive = values.filter((v): v is number => v !== null && v > 0);
  return positive.length > 0 ? 10 ** Math.floor(Math.log10(Math.min(...positive) / 2)) : undefined;
}

const logAxis = (values: readonly (number | null)[]) => ({
  type: "logarithmic" as const,
  min: logFloor(values),
  title: { display: true, text: "ms (log scale)" },
});

function latencyChart(s: Section): FindingsChart {
  const p = (k: "p50" | "p99") => (r: RowSummary) => r.latency?.[k] ?? null;
  const p50 = s.rows.map(p("p50"));
  return chart(s, "latency", "latency p50 and p99 (ms, log scale)", `${loadText(s.rows[0]!)} · one histogram merged over all repeats`, {
    data: {
      labels: s.rows.map(rowLabel),
      datasets: [
        { label: "p50", data: p50, backgroundColor: "#76b7b2" },
        { label: "p99", data: s.rows.map(p("p99")), backgroundColor: "#e15759" },
      ],
    },
    options: { scales: { y: logAxis(p50) } },
  });
}

function limitChart(s: Section): FindingsChart | undefined {
  const rows = s.rows.filter((r) => r.limit?.fraction != null);
  if (rows.length === 0) return undefined;
  const top = Math.max(100, ...rows.map((r) => 100 * r.limit!.fraction!));
  return chart(
    { ...s, rows },
    "limit",
    "share of the physical limit (%)",
    "limit = CPU budget ÷ CPU per request, t(n) measured in the run",
    {
      data: { labels: rows.map(rowLabel), datasets: byShape(rows, (r) => 100 * r.limit!.fraction!) },
      options: {
        skipNull: true,
        scales: { y: { min: 0, max: Math.ceil(top / 10) * 10, title: { display: true, text: "% of budget ÷ t(n)" } } },
      },
    },
  );
}

function predictionChart(s: Section): FindingsChart | undefined {
  const rows = s.rows.filter((r) => r.prediction?.p99Ms != null && r.latency);
  if (rows.length === 0) return undefined;
  const labels = rows.map((r) => [`${r.model} · ${r.topology.id}`, r.prediction!.model]);
  const measured = rows.map((r) => r.latency!.p99);
  const predicted = rows.map((r) => r.prediction!.p99Ms);
  return chart(
    { ...s, rows },
    "prediction",
    "measured vs predicted p99 (ms, log scale)",
    "prediction: queueing theory at the offered rate",
    {
      data: {
        labels,
        datasets: [
          { label: "measured p99 (merged histogram)", data: measured, backgroundColor: "#e15759" },
          { label: "predicted p99", data: predicted, backgroundColor: PREDICTED },
        ],
      },
      options: { scales: { y: logAxis([...measured, ...predicted]) } },
    },
  );
}

/** Every chart of a run, section by section, in the summary's order of workloads and groups. */
export function findingsCharts(run: RunSummary): FindingsChart[] {
  return sections(run).flatMap((g) => {
    const s: Section = { run, name: `${g.workload}.${g.group}`, rows: [...g.rows].sort(pairOrder) };
    const latency = s.rows.some((r) => r.latency) ? [latencyChart(s)] : [];
    return [throughputChart(s), ...latency, limitChart(s), predictionChart(s)].filter((c): c is FindingsChart => c !== undefined);
  });
}
