import { escapeHtml } from "../report/page.js";
import type { RunListing } from "./index.js";

/**
 * results/index.html: every archived run, one table per scenario (the scenario of the newest run
 * first, newest runs first), with links to each run's report and to the comparison of each
 * complete run with the complete run of the same scenario before it. Pure: the caller lists the
 * runs (listRuns) and writes the compare pages that comparePairs() names. Every link is relative
 * to results/, so the folder works opened from disk (file://) or served as is.
 */

export const INDEX_PAGE_FILE = "index.html";
export const COMPARE_DIR = "compare";

/** Two consecutive complete runs of one scenario, and where their comparison page lives. */
export interface ComparePair {
  scenario: string;
  base: RunListing;
  next: RunListing;
  /** Path of the page relative to results/ ("compare/<base>__<next>.html"). */
  file: string;
}

export function compareFile(baseId: string, nextId: string): string {
  return `${COMPARE_DIR}/${baseId}__${nextId}.html`;
}

/** A run whose report can be opened: finished, and its folder still there. */
function reportable(r: RunListing): boolean {
  return r.status === "complete" && r.onDisk;
}

function byStart(a: RunListing, b: RunListing): number {
  return (a.startedAt ?? "").localeCompare(b.startedAt ?? "") || a.id.localeCompare(b.id);
}

/** For every scenario, each complete run paired with the complete run before it (by start time). */
export function comparePairs(runs: readonly RunListing[]): ComparePair[] {
  const byScenario = new Map<string, RunListing[]>();
  for (const r of [...runs].filter(reportable).sort(byStart)) {
    const s = r.scenario ?? "";
    byScenario.set(s, [...(byScenario.get(s) ?? []), r]);
  }
  const pairs: ComparePair[] = [];
  for (const [scenario, list] of byScenario) {
    for (let i = 1; i < list.length; i++) {
      const base = list[i - 1] as RunListing;
      const next = list[i] as RunListing;
      pairs.push({ scenario, base, next, file: compareFile(base.id, next.id) });
    }
  }
  return pairs;
}

/** A relative URL from path segments (each one encoded: ids may hold characters a URL reserves). */
export function hrefOf(...segments: string[]): string {
  return segments
    .flatMap((s) => s.split("/"))
    .map((s) => encodeURIComponent(s))
    .join("/");
}

/** "2026-11-25 18:15:00 UTC" from an ISO time; the text as given when it does not parse. */
export function utcLabel(iso: string | null): string {
  if (iso === null) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** "4 min 05 s" between two ISO times, or "—". */
export function durationLabel(start: string | null, end: string | null): string {
  if (start === null || end === null) return "—";
  const ms = new Date(end).getTime() - new Date(start).getTime();
  if (!Number.isFinite(ms) || ms < 0) return "—";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} min`;
}

const STATUS_TEXT: Record<RunListing["status"], string> = {
  complete: "complete",
  incomplete: "incomplete",
  "in-progress": "in progress",
};

function statusCell(r: RunListing): string {
  const label = r.onDisk ? STATUS_TEXT[r.status] : `${STATUS_TEXT[r.status]}, folder missing`;
  const reason = r.reason ? `<div class="reason">${escapeHtml(r.reason)}</div>` : "";
  return `<td><span class="status status-${r.onDisk ? r.status : "missing"}">${escapeHtml(label)}</span>${reason}</td>`;
}

function linksCell(r: RunListing): string {
  if (!reportable(r)) return "<td>—</td>";
  return `<td><a class="report" href="${escapeHtml(hrefOf(r.dir, "report.html"))}">report</a></td>`;
}

function compareCell(pair: ComparePair | undefined): string {
  if (!pair) return "<td>—</td>";
  const href = escapeHtml(hrefOf(pair.file));
  return `<td class="nowrap"><a class="compare" href="${href}" title="${escapeHtml(`${pair.base.id} → ${pair.next.id}`)}">vs ${escapeHtml(pair.base.id)}</a></td>`;
}

function runRow(r: RunListing, pair: ComparePair | undefined): string {
  const commit = r.gitCommit ? `<code>${escapeHtml(r.gitCommit.slice(0, 12))}</code>` : "—";
  return [
    `<tr id="run-${escapeHtml(r.id)}" class="run run-${r.status}">`,
    `<td class="nowrap"><code>${escapeHtml(r.id)}</code></td>`,
    `<td class="nowrap">${escapeHtml(utcLabel(r.startedAt))}</td>`,
    `<td class="nowrap">${escapeHtml(durationLabel(r.startedAt, r.finishedAt))}</td>`,
    statusCell(r),
    `<td class="num">${r.cells ?? "—"}</td>`,
    `<td>${commit}</td>`,
    linksCell(r),
    compareCell(pair),
    "</tr>",
  ].join("");
}

const HEADER = ["Run", "Started", "Took", "Status", "Cells", "Commit", "Report", "Compared with the previous complete run"];

function scenarioSection(scenario: string, runs: RunListing[], pairs: readonly ComparePair[]): string {
  const pairOf = new Map(pairs.map((p) => [p.next.id, p]));
  const complete = runs.filter((r) => r.status === "complete").length;
  const rows = [...runs].sort((a, b) => byStart(b, a)).map((r) => runRow(r, pairOf.get(r.id)));
  return [
    `<section class="scenario" data-scenario="${escapeHtml(scenario)}">`,
    `<h2>${escapeHtml(scenario || "(unknown scenario)")}</h2>`,
    `<p>${runs.length} run(s), ${complete} complete.</p>`,
    "<table>",
    `<thead><tr>${HEADER.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>`,
    "<tbody>",
    ...rows,
    "</tbody>",
    "</table>",
    "</section>",
  ].join("\n");
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.nowrap { white-space: nowrap; }
.status { font-weight: 600; }
.status-complete { color: #0a6b2d; }
.status-incomplete, .status-missing { color: #b3261e; }
.status-in-progress { color: #8a5a00; }
.reason { font-size: 0.85em; color: #555; max-width: 40rem; white-space: pre-wrap; }
tr.run-incomplete { background: #fff6f5; }
section { border-top: 1px solid #ddd; margin-top: 1.5rem; }
`;

export interface IndexPageOptions {
  /** When the page was made (ISO); shown so a stale page is recognisable. */
  generatedAt: string;
  /**
   * The compare pages that exist (their `file`); a pair without one gets no link. Omitted: every
   * pair is linked.
   */
  compares?: ReadonlySet<string>;
}

/** The whole page. `runs` as listRuns gives them; the compare links are comparePairs(runs). */
export function renderIndexPage(runs: readonly RunListing[], opts: IndexPageOptions): string {
  const pairs = comparePairs(runs).filter((p) => !opts.compares || opts.compares.has(p.file));
  const scenarios = new Map<string, RunListing[]>();
  for (const r of [...runs].sort((a, b) => byStart(b, a))) {
    const s = r.scenario ?? "";
    scenarios.set(s, [...(scenarios.get(s) ?? []), r]);
  }
  const sections = [...scenarios].map(([s, list]) =>
    scenarioSection(
      s,
      list,
      pairs.filter((p) => p.scenario === s),
    ),
  );
  const complete = runs.filter((r) => r.status === "complete").length;
  const intro =
    runs.length === 0
      ? "<p>No runs yet; try <code>npm run lab -- run loadtests/scenarios/smoke.yaml</code>.</p>"
      : `<p>${runs.length} run(s) of ${scenarios.size} scenario(s), ${complete} complete. Page made ${escapeHtml(
          utcLabel(opts.generatedAt),
        )}; rewritten after every run and by <code>lab results</code>.</p>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fiblab results</title>
<style>${STYLE}</style>
</head>
<body>
<h1>fiblab results</h1>
${intro}
${sections.join("\n")}
</body>
</html>
`;
}
