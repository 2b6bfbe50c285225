import { open, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { RunSummarySchema, type RunSummary } from "../measure/run-summary.js";
import { readChartJs } from "../report/chartjs.js";
import { renderComparisonHtml } from "../report/compare-html.js";
import { writeFileAtomic, writeJsonAtomic } from "./atomic.js";
import { COMPARE_DIR, compareFile, comparePairs, hrefOf, INDEX_PAGE_FILE, renderIndexPage } from "./index-page.js";
import { INCOMPLETE_PREFIX, INCOMPLETE_SUFFIX, parseUtcStamp, type RunDir } from "./run-dir.js";

/** results/index.json: one entry per run that reached its end (finished or abandoned). */
export const RunIndexEntrySchema = z.object({
  id: z.string(),
  /** Folder name under results/. */
  dir: z.string(),
  scenario: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  status: z.enum(["complete", "incomplete"]),
  cells: z.number().int().nonnegative(),
  gitCommit: z.string().nullable(),
  reason: z.string().optional(),
});
export type RunIndexEntry = z.infer<typeof RunIndexEntrySchema>;

export const RunIndexSchema = z.object({
  version: z.literal(1),
  runs: z.array(RunIndexEntrySchema),
});
export type RunIndex = z.infer<typeof RunIndexSchema>;

export const INDEX_FILE = "index.json";
const LOCK_WAIT_MS = 10_000;
/** A lock older than this belongs to a process that died holding it. */
const LOCK_STALE_MS = 30_000;

export async function readIndex(resultsDir: string): Promise<RunIndex> {
  let text: string;
  try {
    text = await readFile(path.join(resultsDir, INDEX_FILE), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, runs: [] };
    throw e;
  }
  return RunIndexSchema.parse(JSON.parse(text));
}

/**
 * The rename makes each write atomic; the lock file makes read-modify-write atomic too, so two
 * runs finishing together cannot drop each other's entry.
 */
async function withLock<T>(resultsDir: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(resultsDir, `${INDEX_FILE}.lock`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const h = await open(lock, "wx");
      await h.writeFile(String(process.pid));
      await h.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const age = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (age > LOCK_STALE_MS) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lock} is held by another process; remove it if none is running`);
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

/** Read, modify, write to a temporary file, rename. */
export async function updateIndex(resultsDir: string, modify: (index: RunIndex) => RunIndex): Promise<RunIndex> {
  return withLock(resultsDir, async () => {
    const next = RunIndexSchema.parse(modify(await readIndex(resultsDir)));
    await writeJsonAtomic(path.join(resultsDir, INDEX_FILE), next);
    return next;
  });
}

/**
 * Add a run, or replace the entry with the same id; runs stay sorted by start time. Then
 * results/index.html is rewritten (with the compare pages it links): index.json is the record,
 * the page is derived from it, so a page that cannot be written is a warning, never a lost run.
 */
export async function recordRun(resultsDir: string, entry: RunIndexEntry, opts: { page?: boolean } = {}): Promise<RunIndex> {
  const checked = RunIndexEntrySchema.parse(entry);
  const index = await updateIndex(resultsDir, (index) => ({
    ...index,
    runs: [...index.runs.filter((r) => r.id !== checked.id), checked].sort(
      (a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id),
    ),
  }));
  if (opts.page !== false) {
    await writeIndexPage(resultsDir).catch((e: unknown) => {
      console.error(`warning: ${path.join(resultsDir, INDEX_PAGE_FILE)} not rewritten: ${e instanceof Error ? e.message : String(e)}`);
    });
  }
  return index;
}

/** The index entry of a run folder that was finalized or abandoned. */
export function entryFor(
  run: RunDir,
  info: { scenario: string; cells: number; gitCommit: string | null; finishedAt?: Date; reason?: string },
): RunIndexEntry {
  if (run.status === "open") throw new Error(`run ${run.id} is still open: finalize or abandon it first`);
  return {
    id: run.id,
    dir: path.basename(run.path),
    scenario: info.scenario,
    startedAt: run.startedAt.toISOString(),
    finishedAt: (info.finishedAt ?? new Date()).toISOString(),
    status: run.status,
    cells: info.cells,
    gitCommit: info.gitCommit,
    ...(info.reason !== undefined ? { reason: info.reason } : {}),
  };
}

/** A run as listed: from the index, or found on disk without an entry (in progress, or its orchestrator died). */
export interface RunListing {
  id: string;
  dir: string;
  scenario: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  status: "complete" | "incomplete" | "in-progress";
  cells: number | null;
  gitCommit: string | null;
  reason?: string;
  indexed: boolean;
  onDisk: boolean;
}

function fromFolderName(dir: string): RunListing | undefined {
  let id = dir;
  let status: RunListing["status"] = "complete";
  if (dir.startsWith(INCOMPLETE_PREFIX)) {
    id = dir.slice(INCOMPLETE_PREFIX.length);
    status = "in-progress";
  } else if (dir.endsWith(INCOMPLETE_SUFFIX)) {
    id = dir.slice(0, -INCOMPLETE_SUFFIX.length);
    status = "incomplete";
  }
  const m = /^(\d{8}T\d{6}Z)-(.+)$/.exec(id);
  const started = m ? parseUtcStamp(m[1] as string) : undefined;
  if (!m || !started) return undefined;
  return {
    id,
    dir,
    scenario: m[2] as string,
    startedAt: started.toISOString(),
    finishedAt: null,
    status,
    cells: null,
    gitCommit: null,
    ...(status === "in-progress" ? { reason: "not finished: still running, or its orchestrator stopped without cleaning up" } : {}),
    indexed: false,
    onDisk: true,
  };
}

/** Every run: the index's entries (marked when their folder is gone) plus run folders the index does not know. */
export async function listRuns(resultsDir: string): Promise<RunListing[]> {
  const index = await readIndex(resultsDir);
  const folders = await readdir(resultsDir, { withFileTypes: true }).then(
    (es) => es.filter((e) => e.isDirectory()).map((e) => e.name),
    () => [] as string[],
  );
  const onDisk = new Set(folders);
  const listed: RunListing[] = index.runs.map((r) => ({ ...r, indexed: true, onDisk: onDisk.has(r.dir) }));
  const known = new Set(index.runs.map((r) => r.dir));
  for (const f of folders) {
    if (known.has(f)) continue;
    const l = fromFolderName(f);
    if (l) listed.push(l);
  }
  return listed.sort((a, b) => (a.startedAt ?? "").localeCompare(b.startedAt ?? "") || a.id.localeCompare(b.id));
}

/** A summary written by an older version of the lab: listed, but not compared. */
class OutdatedSummary extends Error {}

/** A run's summary.json, or an error that says in one line which file and field are wrong. */
async function readRunSummary(dir: string): Promise<RunSummary> {
  const file = path.join(dir, "summary.json");
  const parsed = RunSummarySchema.safeParse(JSON.parse(await readFile(file, "utf8")));
  if (parsed.success) return parsed.data;
  const first = parsed.error.issues[0];
  const where = first ? `${first.path.join(".")}: ${first.message}` : "invalid";
  throw new OutdatedSummary(`${file} does not match the current summary schema (${where}; ${parsed.error.issues.length} problem(s))`);
}

async function mtimeOf(p: string): Promise<number | undefined> {
  return stat(p).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
}

/** A relative href from a folder to a file, each segment encoded. */
function relativeHref(fromDir: string, to: string): string {
  return hrefOf(...path.relative(fromDir, to).split(path.sep));
}

/**
 * Write the HTML comparison of two run folders to results/compare/<base>__<next>.html (the name
 * from the summaries' run ids), with links to both reports and to index.html relative to it.
 * Returns the page's path.
 */
export async function writeComparePage(
  resultsDir: string,
  baseDir: string,
  nextDir: string,
  opts: { base?: RunSummary; next?: RunSummary; chartJs?: string } = {},
): Promise<string> {
  const [base, next] = await Promise.all([opts.base ?? readRunSummary(baseDir), opts.next ?? readRunSummary(nextDir)]);
  const file = path.join(resultsDir, ...compareFile(base.runId, next.runId).split("/"));
  const from = path.dirname(file);
  const html = renderComparisonHtml(
    base,
    next,
    { chartJs: opts.chartJs ?? (await readChartJs()) },
    {
      baseReport: relativeHref(from, path.join(baseDir, "report.html")),
      nextReport: relativeHref(from, path.join(nextDir, "report.html")),
      index: relativeHref(from, path.join(resultsDir, INDEX_PAGE_FILE)),
    },
  );
  await writeFileAtomic(file, html);
  return file;
}

/**
 * The compare pages the index links (consecutive complete runs of each scenario), written where
 * missing or older than either run's summary. Returns the pages that exist afterwards; a pair
 * whose summaries cannot be read is left out (and gets no link).
 */
async function refreshComparePages(resultsDir: string, runs: readonly RunListing[]): Promise<Set<string>> {
  const present = new Set<string>();
  let chartJs: string | undefined;
  for (const pair of comparePairs(runs)) {
    const [baseDir, nextDir] = [pair.base.dir, pair.next.dir].map((d) => path.join(resultsDir, d)) as [string, string];
    const page = await mtimeOf(path.join(resultsDir, ...pair.file.split("/")));
    const sources = await Promise.all([baseDir, nextDir].map((d) => mtimeOf(path.join(d, "summary.json"))));
    if (sources.some((m) => m === undefined)) continue;
    if (page === undefined || sources.some((m) => (m as number) > page)) {
      try {
        chartJs ??= await readChartJs();
        await writeComparePage(resultsDir, baseDir, nextDir, { chartJs });
      } catch (e) {
        if (e instanceof OutdatedSummary) continue; // an archive from an older lab: no link, no noise
        console.error(`warning: ${pair.file} not written: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
    }
    present.add(pair.file);
  }
  return present;
}

/**
 * Rewrite results/index.html (atomically) from the runs listRuns() finds, after writing the
 * compare pages it links. The page itself is written under the index lock, so the last of two
 * runs finishing together writes the page that lists both. Returns its path.
 */
export async function writeIndexPage(resultsDir: string, now: () => Date = () => new Date()): Promise<string> {
  const compares = await refreshComparePages(resultsDir, await listRuns(resultsDir));
  const file = path.join(resultsDir, INDEX_PAGE_FILE);
  await withLock(resultsDir, async () => {
    const runs = await listRuns(resultsDir);
    await writeFileAtomic(file, renderIndexPage(runs, { generatedAt: now().toISOString(), compares }));
  });
  return file;
}

export { COMPARE_DIR, INDEX_PAGE_FILE };
