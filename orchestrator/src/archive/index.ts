import { open, readdir, readFile, rm, stat } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { writeJsonAtomic } from "./atomic.js";
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

/** Add a run, or replace the entry with the same id; runs stay sorted by start time. */
export async function recordRun(resultsDir: string, entry: RunIndexEntry): Promise<RunIndex> {
  const checked = RunIndexEntrySchema.parse(entry);
  return updateIndex(resultsDir, (index) => ({
    ...index,
    runs: [...index.runs.filter((r) => r.id !== checked.id), checked].sort(
      (a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id),
    ),
  }));
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
