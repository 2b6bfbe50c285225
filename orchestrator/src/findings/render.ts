import { access, mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium } from "playwright-core";
import { UserError } from "../errors.js";
import { readChartJs } from "../report/chartjs.js";
import { chartPage } from "../report/page.js";
import type { FindingsChart } from "./charts.js";

/**
 * Draws charts.ts's configurations in headless Chromium (Debian's package, installed by
 * scripts/setup-browser.sh; playwright-core only drives it) and photographs each as a PNG.
 */

export const CHROMIUM = process.env.FIBLAB_CHROMIUM ?? "/usr/bin/chromium";

// Runs in the page: one chart per <div id="chart-i">, then a flag the renderer waits for.
const DRAW = `
(function () {
  Chart.defaults.font.size = 13;
  Chart.defaults.color = "#222";
  var configs = JSON.parse(document.getElementById("findings-charts").textContent);
  configs.forEach(function (c, i) { new Chart(document.querySelector("#chart-" + i + " canvas"), c); });
  window.__findingsDrawn = true;
})();
`;

const STYLE =
  "body { margin: 0; background: #fff; font-family: sans-serif; } .chart { position: relative; background: #fff; padding: 8px; }";

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** Write every chart to `outDir/<chart.file>`; returns the paths written. */
export async function renderCharts(charts: readonly FindingsChart[], outDir: string): Promise<string[]> {
  if (charts.length === 0) return [];
  if (!(await exists(CHROMIUM)))
    throw new UserError(`no Chromium at ${CHROMIUM}: run bash scripts/setup-browser.sh (or set FIBLAB_CHROMIUM)`);
  await mkdir(outDir, { recursive: true });
  const html = chartPage(
    {
      title: "fiblab findings charts",
      style: STYLE,
      body: charts.map(
        (c, i) => `<div class="chart" id="chart-${i}" style="width:${c.width}px;height:${c.height}px"><canvas></canvas></div>`,
      ),
      data: { "findings-charts": charts.map((c) => c.config) },
      draw: DRAW,
    },
    { chartJs: await readChartJs() },
  );
  // --no-sandbox: as root (CI, containers) Chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] });
  try {
    const width = Math.max(...charts.map((c) => c.width)) + 40;
    const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1.5 });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    await page.setContent(html, { waitUntil: "load" });
    const drawn = () => (window as unknown as { __findingsDrawn?: boolean }).__findingsDrawn === true;
    // A script error never sets the flag: report the error rather than the timeout.
    await page.waitForFunction(drawn, null, { timeout: 30_000 }).catch((e: unknown) => {
      if (problems.length === 0) throw e;
    });
    if (problems.length > 0) throw new Error(`the charts page reported: ${problems.join("; ")}`);
    const written: string[] = [];
    for (const [i, c] of charts.entries()) {
      const file = path.join(outDir, c.file);
      await page.locator(`#chart-${i}`).screenshot({ path: file });
      written.push(file);
    }
    return written;
  } finally {
    await browser.close();
  }
}
