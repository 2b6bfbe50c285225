import { execa } from "execa";
import { access, mkdir, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordRun, RunIndexSchema, type RunIndexEntry } from "../../orchestrator/src/archive/index.js";
import { repoRoot } from "../../orchestrator/src/models/catalog.js";
import { docker } from "../../orchestrator/src/docker/client.js";

/**
 * The pages people look at, tested as people see them: two tiny real runs of one scenario, then
 * the report, the compare page and results/index.html opened from disk (file://) in headless
 * Chromium (Debian's package, driven by playwright-core; nothing downloads a browser). Any console
 * error or page error fails, as does a chart drawn without data; a screenshot of each page is
 * archived with the run (<run>/screenshots/*.png).
 */

const cli = ["--import", "tsx", path.join(repoRoot, "orchestrator/src/cli.ts")];
const CHROMIUM = process.env.FIBLAB_CHROMIUM ?? "/usr/bin/chromium";

const SCENARIO = [
  "name: pages",
  "description: Two tiny runs for the browser tests <of the pages> & their links.",
  "models: [py-threads]",
  "topologies: [{ replicas: 1, cpus: 0.5 }]",
  "workloads:",
  "  - name: k6-open",
  "    duration: 3s",
  "    warmup: 1s",
  "    groups:",
  "      - { name: fib15, protocol: http, tool: k6, load: { model: open, rate: 20 }, request: fib 15, clients: { count: 1, cpus: 0.5 } }",
  "repeat: 1",
  "seed: 7",
].join("\n");

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

async function lab(results: string, ...args: string[]) {
  return execa("node", [...cli, ...args], { cwd: repoRoot, env: { FIBLAB_RESULTS: results }, reject: false, all: true });
}

/** The browser, installed by scripts/setup-browser.sh when missing (idempotent; needs root on Debian). */
async function launch(): Promise<Browser> {
  if (!(await exists(CHROMIUM))) {
    const r = await execa("bash", [path.join(repoRoot, "scripts/setup-browser.sh")], { reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`no Chromium at ${CHROMIUM}; scripts/setup-browser.sh said:\n${r.all}`);
  }
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
}

interface Opened {
  page: Page;
  problems: string[];
}

/** A fresh page that records every console error, page error and failed request from now on. */
async function openPage(browser: Browser): Promise<Opened> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  return { page, problems };
}

interface ChartState {
  canvases: number;
  instances: number;
  charts: { id: string; drawn: boolean; points: number; width: number; height: number }[];
}

/** Every <canvas> and chart.js instance on the page, with how many data points each chart has. */
async function chartsOf(page: Page): Promise<ChartState> {
  return page.evaluate(() => {
    const C = (window as unknown as { Chart?: any }).Chart;
    const canvases = [...document.querySelectorAll("canvas")];
    const num = (x: unknown) => typeof x === "number" && Number.isFinite(x);
    // A point is a number, a [low, high] pair (floating bars) or an {x, y} object (parsing: false).
    const finite = (v: unknown) =>
      num(v) ||
      (Array.isArray(v) && v.length > 0 && v.every(num)) ||
      (typeof v === "object" && v !== null && num((v as { y?: unknown }).y));
    return {
      canvases: canvases.length,
      instances: C ? Object.keys(C.instances).length : 0,
      charts: canvases.map((c) => {
        const chart = C?.getChart(c);
        const points = chart ? chart.data.datasets.reduce((n: number, d: { data: unknown[] }) => n + d.data.filter(finite).length, 0) : 0;
        return { id: c.id, drawn: Boolean(chart), points, width: c.width, height: c.height };
      }),
    };
  });
}

/** Open a page from disk; fail on any error or empty chart; screenshot it; return its charts. */
async function check(browser: Browser, file: string, shot: string): Promise<{ state: ChartState; opened: Opened }> {
  const opened = await openPage(browser);
  const response = await opened.page.goto(pathToFileURL(file).href, { waitUntil: "load" });
  expect(response === null || response.ok(), file).toBe(true);
  // The screenshot first, so a failing page is archived as it looked.
  await mkdir(path.dirname(shot), { recursive: true });
  await opened.page.screenshot({ path: shot, fullPage: true });
  const state = await chartsOf(opened.page);
  expect(state.instances, `${file}: a chart.js instance per canvas`).toBe(state.canvases);
  for (const c of state.charts) {
    expect(c.drawn, `${file}: canvas #${c.id} has no chart`).toBe(true);
    expect(c.points, `${file}: chart #${c.id} has no data`).toBeGreaterThan(0);
    expect(c.width * c.height, `${file}: chart #${c.id} has no size`).toBeGreaterThan(0);
  }
  expect(opened.problems, file).toEqual([]);
  return { state, opened };
}

describe("the pages people look at, in headless Chromium", () => {
  let results: string;
  let browser: Browser | undefined;
  let runs: RunIndexEntry[];

  beforeAll(async () => {
    results = await mkdtemp(path.join(os.tmpdir(), "fiblab-pages-"));
    const scenario = path.join(results, "pages.yaml");
    await writeFile(scenario, SCENARIO);
    // Two runs of one scenario, so the index links a comparison between them.
    for (let i = 0; i < 2; i++) {
      const r = await lab(results, "run", scenario);
      expect(r.exitCode, r.all).toBe(0);
    }
    runs = RunIndexSchema.parse(JSON.parse(await readFile(path.join(results, "index.json"), "utf8"))).runs;
    browser = await launch();
    console.log(`pages test archive: ${results}`);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("archived two complete runs, rewrote index.html after each and left no container", async () => {
    expect(runs.map((r) => r.status)).toEqual(["complete", "complete"]);
    const index = await readFile(path.join(results, "index.html"), "utf8");
    for (const r of runs) expect(index).toContain(`${r.dir}/report.html`);
    const c = await docker.listContainers({ all: true, filters: { label: runs.map((r) => `fiblab.run=${r.id}`) } });
    expect(c).toEqual([]);
  });

  it("lab compare prints the Markdown and the path of the HTML page, the one the index links", async () => {
    const [a, b] = runs as [RunIndexEntry, RunIndexEntry];
    const r = await lab(results, "compare", a.id, b.id);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stdout).toContain(`# fiblab comparison: ${a.id} → ${b.id}`);
    const page = path.join(results, "compare", `${a.id}__${b.id}.html`);
    expect(r.stderr).toContain(`HTML comparison: ${page}`);
    expect(await exists(page)).toBe(true);
    expect(await readFile(path.join(results, "index.html"), "utf8")).toContain(`compare/${a.id}__${b.id}.html`);
  });

  it("a run's report.html: no error, every chart has data; screenshot archived", async () => {
    const run = path.join(results, runs[1]!.dir);
    const { state } = await check(browser!, path.join(run, "report.html"), path.join(run, "screenshots", "report.png"));
    expect(state.canvases).toBeGreaterThan(0);
  });

  it("the compare page: no error, every chart has data; screenshot archived", async () => {
    const [a, b] = runs as [RunIndexEntry, RunIndexEntry];
    const run = path.join(results, b.dir);
    const { state, opened } = await check(
      browser!,
      path.join(results, "compare", `${a.id}__${b.id}.html`),
      path.join(run, "screenshots", "compare.png"),
    );
    expect(state.canvases).toBe(2);
    // Its links lead to both reports and back to the index.
    const hrefs = await opened.page.$$eval("a", (as) => as.map((x) => (x as HTMLAnchorElement).href));
    expect(hrefs).toEqual([
      pathToFileURL(path.join(results, "index.html")).href,
      pathToFileURL(path.join(results, a.dir, "report.html")).href,
      pathToFileURL(path.join(results, b.dir, "report.html")).href,
    ]);
  });

  it("results/index.html lists both runs and an incomplete one; every link opens a working page; screenshot archived", async () => {
    // An interrupted run, recorded as the runner records one; lab results rewrites the page too.
    await mkdir(path.join(results, "20200101T000000Z-pages.INCOMPLETE"));
    await recordRun(
      results,
      {
        id: "20200101T000000Z-pages",
        dir: "20200101T000000Z-pages.INCOMPLETE",
        scenario: "pages",
        startedAt: "2020-01-01T00:00:00.000Z",
        finishedAt: "2020-01-01T00:00:09.000Z",
        status: "incomplete",
        cells: 0,
        gitCommit: null,
        reason: "interrupted by SIGINT <before any cell>",
      },
      { page: false },
    );
    const r = await lab(results, "results");
    expect(r.exitCode, r.all).toBe(0);
    expect(r.stderr).toContain(`HTML index: ${path.join(results, "index.html")}`);

    const run = path.join(results, runs[1]!.dir);
    const { opened } = await check(browser!, path.join(results, "index.html"), path.join(run, "screenshots", "index.png"));
    const { page } = opened;
    const rows = await page.$$eval("tr.run", (trs) => trs.map((tr) => ({ id: tr.id, text: (tr as HTMLElement).innerText })));
    expect(rows.map((x) => x.id)).toEqual([`run-${runs[1]!.id}`, `run-${runs[0]!.id}`, "run-20200101T000000Z-pages"]);
    expect(rows[2]!.text).toContain("interrupted by SIGINT <before any cell>");
    expect(await page.$$eval("tr.run-incomplete a", (as) => as.length)).toBe(0);

    const links = await page.$$eval("a", (as) => as.map((x) => ({ cls: x.className, href: (x as HTMLAnchorElement).href })));
    expect(links.filter((l) => l.cls === "report")).toHaveLength(2);
    expect(links.filter((l) => l.cls === "compare")).toHaveLength(1);
    for (const [i, link] of links.entries()) {
      // Clicked as a person would, from the index opened from disk.
      const target = await openPage(browser!);
      await target.page.goto(pathToFileURL(path.join(results, "index.html")).href);
      await Promise.all([target.page.waitForURL(link.href, { waitUntil: "load" }), target.page.locator("a").nth(i).click()]);
      expect(await target.page.title(), link.href).toMatch(link.cls === "compare" ? /^fiblab comparison: / : /^fiblab run /);
      const charts = await chartsOf(target.page);
      expect(charts.canvases, link.href).toBeGreaterThan(0);
      expect(
        charts.charts.filter((c) => c.points === 0).map((c) => `chart #${c.id} has no data`),
        link.href,
      ).toEqual([]);
      expect(target.problems, link.href).toEqual([]);
      await target.page.close();
    }
  });

  it("every screenshot exists and is more than a blank page", async () => {
    const run = path.join(results, runs[1]!.dir);
    for (const name of ["report.png", "compare.png", "index.png"]) {
      const file = path.join(run, "screenshots", name);
      const png = await readFile(file);
      expect(png.subarray(1, 4).toString(), name).toBe("PNG");
      expect((await stat(file)).size, name).toBeGreaterThan(10_000);
      // Width and height from the IHDR chunk: a full page, not a sliver (a wide table may
      // widen the page beyond the viewport; a full-page screenshot then follows it).
      expect(png.readUInt32BE(16), name).toBeGreaterThanOrEqual(1400);
      expect(png.readUInt32BE(20), name).toBeGreaterThanOrEqual(300);
    }
  });
});
