import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { recordRun, writeComparePage, writeIndexPage, type RunIndexEntry } from "../../../src/archive/index.js";
import { runOf, validScenario } from "../fixtures.js";

/** results/index.html and the compare pages, written from a real archive on disk. */

let results: string;
beforeEach(async () => {
  results = await mkdtemp(path.join(tmpdir(), "fiblab-pages-"));
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(results, { recursive: true, force: true });
});

const summary = runOf(validScenario());

async function completeRun(id: string, startedAt: string): Promise<RunIndexEntry> {
  const dir = path.join(results, id);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "summary.json"), JSON.stringify({ ...summary, runId: id, startedAt }));
  await writeFile(path.join(dir, "report.html"), "<!DOCTYPE html><title>report</title>");
  return { id, dir: id, scenario: "demo", startedAt, finishedAt: startedAt, status: "complete", cells: 8, gitCommit: "abc1234" };
}

const hrefs = (html: string) => [...html.matchAll(/href="([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!));
const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  );

describe("recordRun rewrites results/index.html", () => {
  it("after every run, complete or not, with compare pages between consecutive complete runs whose links all resolve", async () => {
    await recordRun(results, await completeRun("20261125T180000Z-demo", "2026-11-25T18:00:00.000Z"));
    let page = await readFile(path.join(results, "index.html"), "utf8");
    expect(page).toContain("20261125T180000Z-demo/report.html");
    expect(page).not.toContain('class="compare"');

    await mkdir(path.join(results, "20261125T183000Z-demo.INCOMPLETE"));
    await recordRun(results, {
      id: "20261125T183000Z-demo",
      dir: "20261125T183000Z-demo.INCOMPLETE",
      scenario: "demo",
      startedAt: "2026-11-25T18:30:00.000Z",
      finishedAt: "2026-11-25T18:31:00.000Z",
      status: "incomplete",
      cells: 1,
      gitCommit: null,
      reason: "interrupted by SIGINT",
    });
    await recordRun(results, await completeRun("20261125T190000Z-demo", "2026-11-25T19:00:00.000Z"));
    page = await readFile(path.join(results, "index.html"), "utf8");
    expect(page).toContain("interrupted by SIGINT");
    const compare = "compare/20261125T180000Z-demo__20261125T190000Z-demo.html";
    expect(hrefs(page).sort()).toEqual([compare, "20261125T180000Z-demo/report.html", "20261125T190000Z-demo/report.html"].sort());
    for (const h of hrefs(page)) expect(await exists(path.join(results, h)), h).toBe(true);

    const comparePage = await readFile(path.join(results, compare), "utf8");
    expect(comparePage).toContain("fiblab comparison: 20261125T180000Z-demo → 20261125T190000Z-demo");
    const fromCompare = hrefs(comparePage);
    expect(fromCompare).toEqual(["../index.html", "../20261125T180000Z-demo/report.html", "../20261125T190000Z-demo/report.html"]);
    for (const h of fromCompare) expect(await exists(path.join(results, "compare", h)), h).toBe(true);
    expect((await readdir(results)).filter((f) => f.includes(".tmp-"))).toEqual([]);
  });

  it("rewrites a compare page only when a summary is newer than it", async () => {
    await recordRun(results, await completeRun("20261125T180000Z-demo", "2026-11-25T18:00:00.000Z"));
    await recordRun(results, await completeRun("20261125T190000Z-demo", "2026-11-25T19:00:00.000Z"));
    const file = path.join(results, "compare/20261125T180000Z-demo__20261125T190000Z-demo.html");
    const old = new Date(Date.now() + 60_000);
    await writeFile(file, "kept");
    await utimes(file, old, old);
    await writeIndexPage(results);
    expect(await readFile(file, "utf8")).toBe("kept");
    const older = new Date(Date.now() - 3_600_000);
    await utimes(file, older, older);
    await writeIndexPage(results);
    expect(await readFile(file, "utf8")).toMatch(/^<!DOCTYPE html>/);
  });

  it("lists a pair whose summary is from an older lab without a compare link, quietly, and still records the run", async () => {
    const warn = vi.spyOn(console, "error").mockImplementation(() => {});
    await recordRun(results, await completeRun("20261125T180000Z-demo", "2026-11-25T18:00:00.000Z"));
    const second = await completeRun("20261125T190000Z-demo", "2026-11-25T19:00:00.000Z");
    await writeFile(path.join(results, second.dir, "summary.json"), JSON.stringify({ runId: "old format" }));
    const index = await recordRun(results, second);
    expect(index.runs).toHaveLength(2);
    const page = await readFile(path.join(results, "index.html"), "utf8");
    expect(page).toContain("20261125T190000Z-demo/report.html");
    expect(page).not.toContain('class="compare"');
    // An archive from an older version of the lab is common and harmless: no warning on every run.
    expect(warn).not.toHaveBeenCalled();
  });
});

describe("writeComparePage", () => {
  it("links reports of runs outside results/ relative to the page", async () => {
    const elsewhere = await mkdtemp(path.join(tmpdir(), "fiblab-elsewhere-"));
    try {
      const a = path.join(elsewhere, "a b");
      await mkdir(a);
      await writeFile(path.join(a, "summary.json"), JSON.stringify({ ...summary, runId: "A" }));
      await completeRun("20261125T190000Z-demo", "2026-11-25T19:00:00.000Z");
      const file = await writeComparePage(results, a, path.join(results, "20261125T190000Z-demo"), { chartJs: "" });
      expect(path.relative(results, file)).toBe(path.join("compare", "A__20261125T190000Z-demo.html"));
      const html = await readFile(file, "utf8");
      const links = hrefs(html);
      expect(path.resolve(path.dirname(file), links[1]!)).toBe(path.join(a, "report.html"));
      expect(html).toContain("a%20b/report.html");
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
