#!/usr/bin/env node
import { Command } from "commander";
import { access, readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../errors.js";
import { repoRoot } from "../models/catalog.js";
import { checkFindings, declaredRuns, formatFailure, type Failure, type RunSource } from "./check.js";

/** `npm run findings:keep -- <run-id>…` and `npm run findings:check` (docs/findings/README.md). */

// FIBLAB_RESULTS moves the archive, as for `lab`.
const resultsDir = process.env.FIBLAB_RESULTS ?? path.join(repoRoot, "results");
const findingsDir = path.join(repoRoot, "docs", "findings");

const shown = (p: string) => {
  const rel = path.relative(process.cwd(), p);
  return rel.startsWith("..") || path.isAbsolute(rel) ? p : rel;
};

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

async function loadRun(runs: string, id: string): Promise<RunSource> {
  const file = path.join(runs, id, "summary.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    return { problem: `no ${shown(file)} (keep the run: npm run findings:keep -- ${id})` };
  }
  try {
    return { summary: JSON.parse(text) as unknown };
  } catch (e) {
    return { problem: `${shown(file)} is not JSON: ${(e as Error).message}` };
  }
}

async function check(opts: { file: string; runs: string }): Promise<void> {
  const file = path.resolve(opts.file);
  if (!(await exists(file))) throw new UserError(`no ${shown(file)} yet: write it (the annotation syntax: docs/findings/README.md)`);
  const markdown = await readFile(file, "utf8");
  const sources = new Map<string, RunSource>();
  for (const r of declaredRuns(markdown)) sources.set(r.id, await loadRun(path.resolve(opts.runs), r.id));
  const report = checkFindings(markdown, sources);
  const failures: Failure[] = [...report.failures];
  for (const img of report.images) {
    const target = path.resolve(path.dirname(file), decodeURI(img.target.split("#")[0]!));
    if (!(await exists(target))) failures.push({ line: img.line, quoted: img.target, message: "image not found" });
  }
  failures.sort((a, b) => a.line - b.line);
  const name = path.basename(file);
  for (const f of failures) console.log(formatFailure(name, f));
  for (const u of report.unchecked) console.log(`${name}:${u.line}: note: "${u.quoted}" is not from a run: ${u.reason}`);
  const runs = report.runs.map((r) => r.id).join(", ") || "none";
  const tally = `${report.verified} figure(s) verified against run(s) ${runs}, ${report.unchecked.length} marked unchecked`;
  if (failures.length > 0) {
    console.log(`findings:check: ${failures.length} problem(s); ${tally}`);
    process.exitCode = 1;
  } else console.log(`findings:check: ${name} ok: ${tally}`);
}

const program = new Command()
  .name("findings")
  .description("keep the runs FINDINGS.md cites, and check its figures against them")
  .showHelpAfterError();

program
  .command("keep")
  .description("copy what FINDINGS.md needs of archived runs into docs/findings/<run-id>/ (summary, report, charts)")
  .argument("<run-id...>", "run ids, folders under results/")
  .option("--no-charts", "skip the PNG charts (no Chromium needed)")
  .option("--to <dir>", "where to keep them", findingsDir)
  .action(async (ids: string[], opts: { charts: boolean; to: string }) => {
    // Loaded here: the check need not load the browser driver.
    const { keepRun, summaryFile } = await import("./keep.js");
    // Every id first: a typo stops the command before anything is written.
    for (const id of ids) await summaryFile(id, resultsDir);
    for (const id of ids) {
      const k = await keepRun(id, { resultsDir, findingsDir: path.resolve(opts.to), charts: opts.charts });
      const size = `summary.json ${Math.round(k.summaryBytes / 1024)} KiB of ${Math.round(k.originalBytes / 1024)} KiB`;
      const dropped = k.dropped.length > 0 ? ` (dropped: ${k.dropped.join("; ")})` : "";
      console.log(`${shown(k.dir)}: ${size}${dropped}, ${[...k.copied, `${k.charts} chart(s)`, "README.md"].join(", ")}`);
    }
  });

program
  .command("check")
  .description("verify every figure FINDINGS.md quotes against the summary.json of the run it cites")
  .option("--file <path>", "the document", path.join(repoRoot, "FINDINGS.md"))
  .option("--runs <dir>", "where kept runs live", findingsDir)
  .action(check);

try {
  await program.parseAsync();
} catch (err) {
  if (!(err instanceof UserError)) throw err;
  console.error(`findings: ${err.message}`);
  process.exitCode = 1;
}
