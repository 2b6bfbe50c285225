import type { RunSummary } from "../measure/run-summary.js";
import { referenceTables } from "./reference.js";
import { environmentLines, eventsTable, methodNotes, problemLines, reportSections, runHeadline, TABLE_HEADER } from "./format.js";
import { placementLines } from "../measure/placement.js";

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
  const list = (heading: string, items: readonly string[]) => {
    if (items.length > 0) out.push(heading, "", ...items.map((l) => `- ${l}`), "");
  };
  out.push(`# fiblab run ${run.runId}: ${run.scenario}`, "");
  if (run.description) out.push(run.description, "");
  out.push(runHeadline(run), "");

  const problems = problemLines(run);
  for (const p of problems) out.push(`> ${p}`);
  if (problems.length > 0) out.push("");

  out.push("## Environment", "");
  const env = environmentLines(run);
  out.push(env.length > 0 ? markdownTable(["", ""], env) : "Not recorded.", "");
  list("## Placement", placementLines(run.cells));

  out.push("## How to read these figures", "");
  for (const n of methodNotes(run)) out.push(`- ${n}`);
  out.push("");
  for (const n of run.notes) out.push(`> ${n}`);
  if (run.notes.length > 0) out.push("");

  for (const s of reportSections(run)) {
    out.push(`## ${s.title}`, "");
    out.push(`${s.first.protocol.toUpperCase()}, ${s.first.loadModel} model ${s.load}`, "");
    out.push(markdownTable(TABLE_HEADER, s.table), "");
    list("Client send lag (how late sends left behind their intended time; it is inside the latency above):", s.sendLags);
    list("Cold start (from `up` to the first correct answer through the front):", s.coldStarts);
    list("Notes:", s.notes);
  }
  for (const t of referenceTables(run)) {
    out.push(`## ${t.title}`, "", ...t.notes.map((n) => `- ${n}`), "", markdownTable(t.header, t.rows), "");
  }
  const events = eventsTable(run);
  if (events) {
    out.push("## Events", "");
    for (const n of events.notes) out.push(`- ${n}`);
    out.push("", markdownTable(events.header, events.rows), "");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
