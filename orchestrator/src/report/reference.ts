import type { RowSummary, RunSummary } from "../measure/run-summary.js";
import { DASH, num, pct, plain } from "./format.js";

/**
 * The run's reference points beside its figures: what each shape saturated at (the probe), what
 * its CPU budget could serve at most (the physical limit from t(n)), and what queueing theory
 * predicts at the offered rate. Rendered by both the Markdown and the HTML report.
 */

export interface ReferenceTable {
  title: string;
  notes: string[];
  header: string[];
  rows: string[][];
}

const ms = (x: number | null | undefined) => (x === null || x === undefined ? DASH : `${num(x)} ms`);
const ratio = (x: number | null | undefined) => (x === null || x === undefined ? DASH : `${x.toPrecision(2)}×`);

function probesTable(run: RunSummary): ReferenceTable | null {
  if (run.probes.length === 0) return null;
  const rows = run.probes.map((p) => [
    p.model,
    p.topology,
    `${plain(p.cpuBudget)} cpu`,
    p.serviceTimes.map((t) => `fib ${t.n}: ${num(t.cpuMs)} ms cpu (${num(t.wallMs)} wall)`).join("; ") || DASH,
    p.capacity
      .map((c) => {
        const flags = [
          c.clientBound ? "client-bound" : "",
          c.machineBusy ? "machine busy" : "",
          c.errorsTotal > 0 ? `${c.errorsTotal} errors` : "",
        ];
        const flagText = flags.filter(Boolean).join(", ");
        return `${c.workload}/${c.group}: ${c.throughput === null ? "failed" : `${num(c.throughput)} req/s`} at ${c.connections} conn${flagText ? ` ⚠ ${flagText}` : ""}`;
      })
      .join("; ") || DASH,
    p.error ?? "",
  ]);
  return {
    title: "Probes: t(n) and saturation, measured in this run before its cells",
    notes: [
      "t(n): fib(n) timed in the first model container by the model's own interpreter, one call at a time, under the topology's CPU limit; CPU time per call (wall time in brackets, stretched by CFS throttling below one core).",
      'Saturation: a closed loop through the front at the given connections, with the group\'s own tool and request; relative rates ("80%") are shares of it.',
    ],
    header: ["Model", "Topology", "Budget", "t(n)", "Saturation throughput", "Error"],
    rows,
  };
}

function limitLabel(r: RowSummary): string {
  if (!r.limit) return DASH;
  return `${num(r.limit.limitRps)} req/s (${num(r.limit.cpuMsPerRequest)} ms cpu/request)`;
}

function rateLabel(r: RowSummary): string {
  if (r.load.model !== "open") return `closed ${r.load.connections} conn`;
  if (!r.relativeRate) return `${plain(r.load.rate)} req/s`;
  return `${plain(r.relativeRate.percent)}% of ${num(r.relativeRate.capacity)} = ${num(r.relativeRate.rate)} req/s`;
}

function predictionCells(r: RowSummary): string[] {
  const p = r.prediction;
  if (!p) return [DASH, DASH, DASH];
  const predicted = p.p50Ms === null ? `no steady state (ρ ${p.offeredLoad.toFixed(2)})` : `p50 ${ms(p.p50Ms)}, p99 ${ms(p.p99Ms)}`;
  return [
    `${p.model}, s = ${ms(p.serviceMs)}, ρ ${p.offeredLoad.toFixed(2)}`,
    predicted,
    `p50 ${ratio(p.p50Ratio)}, p99 ${ratio(p.p99Ratio)}`,
  ];
}

function noiseLabel(r: RowSummary): string {
  const cv = r.throughput.cv;
  if (cv === null) return DASH;
  return `${r.noisy ? "⚠ noisy, " : ""}CV ${pct(100 * cv)}`;
}

function rowsTable(run: RunSummary): ReferenceTable | null {
  const rows = run.rows.filter((r) => r.limit || r.prediction || r.relativeRate || r.noisy);
  if (rows.length === 0) return null;
  return {
    title: "Against the limits: physical limit, queueing theory, noise",
    notes: [
      "Physical limit: the topology's CPU budget ÷ the CPU one request of the mix costs in t(n); the share is the mean throughput over repeats ÷ that limit. What the rest goes to (the front, the clients, per-request overhead, throttling) is the gap.",
      "Prediction: the processes serving in parallel as servers (one shared accept queue for a master's workers: M/D/c; one queue per one-process replica fed by the front: round-robin), each with the service time that makes them saturate at the probed throughput. Measured ÷ predicted above 1 means slower than the model.",
      "Noisy: throughput CV across repeats above 5%: a finding built on the row says so.",
    ],
    header: [
      "Row",
      "Offered",
      "Throughput (mean)",
      "Physical limit",
      "Share of limit",
      "Queueing model",
      "Predicted",
      "Measured ÷ predicted",
      "Noise",
    ],
    rows: rows.map((r) => [
      `${r.model} · ${r.topology.id} · ${r.workload}/${r.group}`,
      rateLabel(r),
      r.throughput.mean === null ? DASH : `${num(r.throughput.mean)} req/s`,
      limitLabel(r),
      r.limit?.fraction == null ? DASH : pct(100 * r.limit.fraction, 0),
      ...predictionCells(r),
      noiseLabel(r),
    ]),
  };
}

export function referenceTables(run: RunSummary): ReferenceTable[] {
  return [probesTable(run), rowsTable(run)].filter((t): t is ReferenceTable => t !== null);
}
