import { mkdtemp, readdir, readFile, rm, utimes, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeFileAtomic } from "../../../src/archive/atomic.js";
import { entryFor, INDEX_FILE, listRuns, readIndex, recordRun, type RunIndexEntry } from "../../../src/archive/index.js";
import { parseUtcStamp, RunDir, utcStamp } from "../../../src/archive/run-dir.js";

let results: string;
beforeEach(async () => {
  results = await mkdtemp(path.join(tmpdir(), "fiblab-archive-"));
});
afterEach(async () => {
  await rm(results, { recursive: true, force: true });
});

const NOW = new Date("2026-11-25T18:15:00.456Z");

describe("utcStamp", () => {
  it("formats and parses back to the second", () => {
    expect(utcStamp(NOW)).toBe("20261125T181500Z");
    expect(parseUtcStamp("20261125T181500Z")!.toISOString()).toBe("2026-11-25T18:15:00.000Z");
    expect(parseUtcStamp("2026-11-25")).toBeUndefined();
  });
});

describe("RunDir", () => {
  it("lives under a temporary name until finalized", async () => {
    const run = await RunDir.create(results, "sweep", NOW);
    expect(run.id).toBe("20261125T181500Z-sweep");
    expect(path.basename(run.path)).toBe(".incomplete-20261125T181500Z-sweep");
    await run.writeJson("cells/a/summary.json", { ok: 1 });
    await run.writeText("report.md", "# hi\n");
    expect(await readdir(results)).toEqual([".incomplete-20261125T181500Z-sweep"]);

    const final = await run.finalize();
    expect(final).toBe(path.join(results, "20261125T181500Z-sweep"));
    expect(await readdir(results)).toEqual(["20261125T181500Z-sweep"]);
    expect(JSON.parse(await readFile(path.join(final, "cells/a/summary.json"), "utf8"))).toEqual({ ok: 1 });
    expect(run.status).toBe("complete");
    await expect(run.writeJson("late.json", {})).rejects.toThrow(/already complete/);
    await expect(run.finalize()).rejects.toThrow(/already complete/);
  });

  it("abandon() leaves a .INCOMPLETE folder that says why", async () => {
    const run = await RunDir.create(results, "sweep", NOW);
    await run.writeJson("scenario.json", {});
    const where = await run.abandon("interrupted by SIGINT after 3 of 12 cells");
    expect(path.basename(where)).toBe("20261125T181500Z-sweep.INCOMPLETE");
    expect(await readdir(results)).toEqual(["20261125T181500Z-sweep.INCOMPLETE"]);
    expect(await readFile(path.join(where, "INCOMPLETE.txt"), "utf8")).toBe("interrupted by SIGINT after 3 of 12 cells\n");
    expect(run.status).toBe("incomplete");
    await expect(run.writeText("x", "y")).rejects.toThrow(/already incomplete/);
  });

  it("never shares a folder with a run started in the same second", async () => {
    const a = await RunDir.create(results, "sweep", NOW);
    await a.finalize();
    const b = await RunDir.create(results, "sweep", NOW);
    const c = await RunDir.create(results, "sweep", NOW);
    expect([a.id, b.id, c.id]).toEqual(["20261125T181500Z-sweep", "20261125T181500Z-sweep-2", "20261125T181500Z-sweep-3"]);
  });

  it("writes leave no temporary files and refuse paths outside the run", async () => {
    const run = await RunDir.create(results, "s", NOW);
    for (let i = 0; i < 5; i++) await run.writeJson("summary.json", { i });
    expect(await readdir(run.path)).toEqual(["summary.json"]);
    expect(JSON.parse(await readFile(path.join(run.path, "summary.json"), "utf8"))).toEqual({ i: 4 });
    await expect(run.writeText("../escape.txt", "x")).rejects.toThrow(/outside the run folder/);
  });

  it("keeps scenario names safe in folder names", async () => {
    const run = await RunDir.create(results, "../weird name", NOW);
    expect(run.id).toBe("20261125T181500Z-_weird_name");
  });
});

describe("writeFileAtomic", () => {
  it("keeps the old content and leaves no temporary file when the write fails", async () => {
    const target = path.join(results, "a.json");
    await writeFileAtomic(target, "old");
    await mkdir(path.join(results, "blocker"));
    // Renaming a file over a non-empty directory fails: the target must be untouched.
    await writeFile(path.join(results, "blocker", "x"), "");
    await expect(writeFileAtomic(path.join(results, "blocker"), "new")).rejects.toThrow();
    expect(await readFile(target, "utf8")).toBe("old");
    expect((await readdir(results)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });
});

function entry(id: string, over: Partial<RunIndexEntry> = {}): RunIndexEntry {
  return {
    id,
    dir: id,
    scenario: "sweep",
    startedAt: parseUtcStamp(id.slice(0, 16))!.toISOString(),
    finishedAt: "2026-11-25T19:00:00.000Z",
    status: "complete",
    cells: 12,
    gitCommit: "abc1234",
    ...over,
  };
}

describe("results/index.json", () => {
  it("starts empty, records runs sorted by start, replaces by id", async () => {
    expect(await readIndex(results)).toEqual({ version: 1, runs: [] });
    await recordRun(results, entry("20261125T190000Z-sweep"));
    await recordRun(results, entry("20261125T180000Z-sweep"));
    await recordRun(results, entry("20261125T190000Z-sweep", { cells: 3 }));
    const idx = await readIndex(results);
    expect(idx.runs.map((r) => [r.id, r.cells])).toEqual([
      ["20261125T180000Z-sweep", 12],
      ["20261125T190000Z-sweep", 3],
    ]);
    // index.html is derived from index.json and rewritten with it.
    expect((await readdir(results)).sort()).toEqual(["index.html", INDEX_FILE]);
  });

  it("loses no entry when many runs record at once", async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `20261125T18${String(i).padStart(2, "0")}00Z-sweep`);
    await Promise.all(ids.map((id) => recordRun(results, entry(id))));
    expect((await readIndex(results)).runs.map((r) => r.id)).toEqual(ids);
  });

  it("breaks a stale lock left by a dead process", async () => {
    const lock = path.join(results, `${INDEX_FILE}.lock`);
    await writeFile(lock, "99999");
    const old = new Date(Date.now() - 60_000);
    await utimes(lock, old, old);
    await recordRun(results, entry("20261125T180000Z-sweep"));
    expect((await readIndex(results)).runs).toHaveLength(1);
  });

  it("rejects a malformed entry without touching the index", async () => {
    await recordRun(results, entry("20261125T180000Z-sweep"));
    await expect(recordRun(results, { ...entry("20261125T190000Z-x"), cells: -1 })).rejects.toThrow();
    expect((await readIndex(results)).runs).toHaveLength(1);
  });

  it("entryFor describes a finalized or abandoned run", async () => {
    const run = await RunDir.create(results, "sweep", NOW);
    expect(() => entryFor(run, { scenario: "sweep", cells: 1, gitCommit: null })).toThrow(/still open/);
    await run.abandon("docker died");
    const e = entryFor(run, {
      scenario: "sweep",
      cells: 4,
      gitCommit: "abc",
      reason: "docker died",
      finishedAt: new Date("2026-11-25T18:20:00Z"),
    });
    expect(e).toEqual({
      id: "20261125T181500Z-sweep",
      dir: "20261125T181500Z-sweep.INCOMPLETE",
      scenario: "sweep",
      startedAt: "2026-11-25T18:15:00.456Z",
      finishedAt: "2026-11-25T18:20:00.000Z",
      status: "incomplete",
      cells: 4,
      gitCommit: "abc",
      reason: "docker died",
    });
  });

  it("listRuns shows indexed runs and folders the index does not know", async () => {
    const done = await RunDir.create(results, "a", new Date("2026-11-25T10:00:00Z"));
    await done.finalize();
    await recordRun(results, entryFor(done, { scenario: "a", cells: 2, gitCommit: "abc" }));
    await RunDir.create(results, "b", new Date("2026-11-25T11:00:00Z")); // still running (or crashed)
    const gone = await RunDir.create(results, "c", new Date("2026-11-25T12:00:00Z"));
    await gone.abandon("x");
    await recordRun(results, { ...entryFor(gone, { scenario: "c", cells: 0, gitCommit: null }) });
    await rm(gone.path, { recursive: true });

    const runs = await listRuns(results);
    expect(runs.map((r) => [r.id, r.status, r.indexed, r.onDisk])).toEqual([
      ["20261125T100000Z-a", "complete", true, true],
      ["20261125T110000Z-b", "in-progress", false, true],
      ["20261125T120000Z-c", "incomplete", true, false],
    ]);
    expect(runs[1]!.scenario).toBe("b");
    expect(runs[1]!.startedAt).toBe("2026-11-25T11:00:00.000Z");
  });

  it("listRuns of a missing results folder is empty", async () => {
    expect(await listRuns(path.join(results, "nope"))).toEqual([]);
  });
});
