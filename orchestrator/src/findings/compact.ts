/**
 * What docs/findings/<run-id>/ keeps of a run's summary.json (pure; keep.ts does the I/O). Every
 * figure FINDINGS.md quotes lives in rows[], probes[] and cells[]: those are kept whole. Under the
 * size budget nothing is dropped; above it, first the per-second timelines, then the per-process
 * reply counts of each repeat (both default to [] in RunSummarySchema, so the kept file still
 * parses as a run summary and `lab report` can read it). Encoded histograms are never kept: they
 * are not figures, and a merged histogram's percentiles are already in rows[].latency.
 */

export const SIZE_BUDGET = 1_000_000;

const HISTOGRAM_FIELDS = new Set(["histogram", "sendLagHistogram"]);

export interface Compacted {
  /** The text to write (indented as the runner writes summary.json). */
  text: string;
  /** What was left out, one sentence each (empty when the summary was kept whole). */
  dropped: string[];
  originalBytes: number;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function stripHistograms(x: Json, count: { n: number }): Json {
  if (Array.isArray(x)) return x.map((e) => stripHistograms(e, count));
  if (x === null || typeof x !== "object") return x;
  const out: { [k: string]: Json } = {};
  for (const [k, v] of Object.entries(x)) {
    if (HISTOGRAM_FIELDS.has(k) && typeof v === "string") count.n++;
    else out[k] = stripHistograms(v, count);
  }
  return out;
}

const render = (x: Json) => `${JSON.stringify(x, null, 2)}\n`;
const bytes = (s: string) => Buffer.byteLength(s, "utf8");

/** Shrink a parsed summary.json to the budget, saying what went. */
export function compactSummary(summary: unknown, original: string, budget = SIZE_BUDGET): Compacted {
  const count = { n: 0 };
  const root = stripHistograms(summary as Json, count);
  const dropped: string[] = [];
  if (count.n > 0)
    dropped.push(`${count.n} encoded histogram field(s) (histogram, sendLagHistogram): their percentiles are in rows[].latency`);
  if (root === null || typeof root !== "object" || Array.isArray(root)) throw new Error("summary.json is not an object");
  let text = render(root);
  const timelines = root["timelines"];
  if (bytes(text) > budget && Array.isArray(timelines) && timelines.length > 0) {
    root["timelines"] = [];
    dropped.push(`timelines (${timelines.length} per-second series, one repeat per cell): they only draw report.html's timelines`);
    text = render(root);
  }
  const rows = root["rows"];
  if (bytes(text) > budget && Array.isArray(rows)) {
    let n = 0;
    for (const r of rows) {
      if (r && typeof r === "object" && !Array.isArray(r) && Array.isArray(r["spread"]) && r["spread"].length > 0) {
        r["spread"] = [];
        n++;
      }
    }
    if (n > 0) dropped.push(`rows[].spread of ${n} row(s) (replies per process per repeat); rows[].evenness keeps its statistics`);
    text = render(root);
  }
  return { text, dropped, originalBytes: bytes(original) };
}

export interface KeptFiles {
  runId: string;
  scenario: string;
  startedAt: string;
  source: string;
  summaryBytes: number;
  originalBytes: number;
  dropped: string[];
  copied: string[];
  charts: { file: string; title: string }[];
}

const kb = (n: number) => `${Math.round(n / 1024)} KiB`;

/** The folder's README: where it came from, what is here, what is not. */
export function keptReadme(k: KeptFiles): string {
  const lines = [
    `# Run ${k.runId} (${k.scenario}), kept for FINDINGS.md`,
    "",
    `Kept by \`npm run findings:keep -- ${k.runId}\` from \`${k.source}\` (run started ${k.startedAt}).`,
    "FINDINGS.md cites this folder with `<!-- findings-run: " + k.runId + " -->`; `npm run findings:check`",
    "verifies every figure it quotes against `summary.json` here (syntax: docs/findings/README.md).",
    "",
    "## Files",
    "",
    `- \`summary.json\`: ${kb(k.summaryBytes)} (the run's was ${kb(k.originalBytes)}).`,
    ...k.copied.map((f) => `- \`${f}\`: as archived.`),
    `- \`charts/\`: ${k.charts.length} PNG chart(s), drawn from summary.json with chart.js in headless Chromium.`,
    "",
    "## Left out",
    "",
    "- Per-request data, client folders and per-cell summaries (`cells/`), `report.html` (it inlines chart.js).",
    ...(k.dropped.length > 0
      ? k.dropped.map((d) => `- From summary.json: ${d}.`)
      : ["- Nothing from summary.json: it is the run's own, whole."]),
    "",
    "## Charts",
    "",
    ...k.charts.map((c) => `- \`charts/${c.file}\`: ${c.title}`),
    "",
    `In FINDINGS.md: \`![what it shows](docs/findings/${k.runId}/charts/<file>)\`.`,
    "",
  ];
  return lines.join("\n");
}
