import type { RunSummary } from "../measure/run-summary.js";
import { formatDuration } from "../scenario/duration.js";
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

function cell(s: string): string {
  return s.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The run's summary as Markdown: environment, how to read it, one table per workload group. */
export function renderMarkdown(run: RunSummary): string {
  const out: string[] = [];
  out.push(`# fiblab run ${run.runId}: ${run.scenario}`, "");
  if (run.description) out.push(run.description, "");
  const failed = run.cells.filter((c) => c.status !== "ok").length;
  out.push(
    `Started ${run.startedAt}, finished ${run.finishedAt}. ${run.cells.length} cells` +
      `${failed > 0 ? ` (${failed} failed)` : ""}, run in a random order from seed ${run.seed}.`,
    "",
  );

  const problems = problemLines(run);
  for (const p of problems) out.push(`> ${p}`);
  if (problems.length > 0) out.push("");

  out.push("## Environment", "");
  const env = environmentLines(run);
  out.push(env.length > 0 ? markdownTable(["", ""], env) : "Not recorded.", "");

  out.push("## How to read these figures", "");
  for (const n of methodNotes(run)) out.push(`- ${n}`);
  out.push("");
  for (const n of run.notes) out.push(`> ${n}`);
  if (run.notes.length > 0) out.push("");

  for (const s of sections(run)) {
    const first = s.rows[0];
    if (!first) continue;
    out.push(`## ${s.workload} / ${s.group}`, "");
    out.push(
      `${first.protocol.toUpperCase()}, ${first.loadModel} model via ${first.tool} (${latencyBasis(first.tool, first.loadModel)}), request ${requestLabel(first)}, ` +
        `${first.clients.count} client(s) × ${first.clients.cpus} cpu, ${formatDuration(first.durationMs)} measured after ${formatDuration(first.warmupMs)} warm-up.`,
      "",
    );
    const rows = s.rows.map(tableRow);
    out.push(
      markdownTable(
        TABLE_HEADER,
        rows.map((r) => r.cells),
      ),
      "",
    );
    const lags = sendLagLines(s.rows);
    if (lags.length > 0) {
      out.push("Client send lag (how late sends left behind their intended time; it is inside the latency above):", "");
      for (const l of lags) out.push(`- ${l}`);
      out.push("");
    }
    const starts = coldStartLines(s.rows);
    if (starts.length > 0) {
      out.push("Cold start (from `up` to the first correct answer through the front):", "");
      for (const l of starts) out.push(`- ${l}`);
      out.push("");
    }
    const notes = s.rows.flatMap((r, i) => (rows[i]?.notes ?? []).map((n) => `${r.model} ${r.topology.id}: ${n}`));
    if (notes.length > 0) {
      out.push("Notes:", "");
      for (const n of notes) out.push(`- ${n}`);
      out.push("");
    }
  }
  const events = eventRows(run);
  if (events.length > 0) {
    out.push("## Events", "");
    for (const n of eventNotes()) out.push(`- ${n}`);
    out.push("", markdownTable(EVENTS_HEADER, events), "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
