import { access, chmod, copyFile, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { RunSummarySchema } from "../measure/run-summary.js";
import { findingsCharts } from "./charts.js";
import { compactSummary, keptReadme } from "./compact.js";
import { renderCharts } from "./render.js";

/**
 * `findings:keep`: copies what FINDINGS.md cites of an archived run from results/<run-id>/ into
 * docs/findings/<run-id>/ (committed, unlike results/): the compacted summary.json, report.md,
 * scenario.yaml, probes.json, the charts as PNGs and a README saying what was left out.
 */

/** Copied as archived when the run has them. */
const COPIED = ["report.md", "scenario.yaml", "probes.json"];
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface KeepOptions {
  resultsDir: string;
  findingsDir: string;
  /** false: no browser, no charts (a machine without Chromium). */
  charts: boolean;
}

export interface KeepOutcome {
  dir: string;
  summaryBytes: number;
  originalBytes: number;
  dropped: string[];
  copied: string[];
  charts: number;
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** The run's summary.json; a user's error when the id names no complete run. */
export async function summaryFile(runId: string, resultsDir: string): Promise<string> {
  if (!RUN_ID.test(runId)) throw new UserError(`"${runId}" is not a run id (a folder name under results/)`);
  const file = path.join(resultsDir, runId, "summary.json");
  if (!(await exists(file))) throw new UserError(`no run ${runId}: ${file} does not exist (complete runs: npm run lab -- results)`);
  return file;
}

async function readRun(runId: string, resultsDir: string) {
  const file = await summaryFile(runId, resultsDir);
  const src = path.dirname(file);
  const text = await readFile(file, "utf8");
  const raw: unknown = JSON.parse(text);
  const parsed = RunSummarySchema.safeParse(raw);
  if (!parsed.success) throw new UserError(`${file} is not a run summary this lab reads: ${parsed.error.issues[0]?.message ?? ""}`);
  return { src, text, raw, summary: parsed.data };
}

/** Keep one run; the folder is written aside and swapped in whole, so a failure leaves the old one. */
export async function keepRun(runId: string, opts: KeepOptions): Promise<KeepOutcome> {
  const { src, text, raw, summary } = await readRun(runId, opts.resultsDir);
  await mkdir(opts.findingsDir, { recursive: true });
  const tmp = await mkdtemp(path.join(opts.findingsDir, `.keep-${runId}-`));
  await chmod(tmp, 0o755); // mkdtemp makes it private; the kept folder is an ordinary one
  try {
    const compacted = compactSummary(raw, text);
    await writeFile(path.join(tmp, "summary.json"), compacted.text);
    const copied: string[] = [];
    for (const f of COPIED) {
      if (await exists(path.join(src, f))) {
        await copyFile(path.join(src, f), path.join(tmp, f));
        copied.push(f);
      }
    }
    const charts = opts.charts ? findingsCharts(summary) : [];
    await renderCharts(charts, path.join(tmp, "charts"));
    const readme = keptReadme({
      runId,
      scenario: summary.scenario,
      startedAt: summary.startedAt,
      source: `results/${runId}/`,
      summaryBytes: Buffer.byteLength(compacted.text),
      originalBytes: compacted.originalBytes,
      dropped: compacted.dropped,
      copied,
      charts: charts.map((c) => ({ file: c.file, title: c.title })),
    });
    await writeFile(path.join(tmp, "README.md"), readme);
    const dir = path.join(opts.findingsDir, runId);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
    return {
      dir,
      summaryBytes: Buffer.byteLength(compacted.text),
      originalBytes: compacted.originalBytes,
      dropped: compacted.dropped,
      copied,
      charts: charts.length,
    };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
