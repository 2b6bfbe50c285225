import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { readChartJs } from "../../../src/report/chartjs.js";
import { compareRuns, renderComparisonMarkdown } from "../../../src/report/compare.js";
import { renderHtml } from "../../../src/report/html.js";
import { renderMarkdown } from "../../../src/report/markdown.js";
import { runOf, validScenario } from "../fixtures.js";

const scenario = validScenario();
const run = runOf(scenario, {
  okPerClient: (id) => 1000 + 100 * Number(id.slice(-1)),
  latencyUs: (id, g) => (g === "main" ? 2000 : 800) * Number(id.slice(-1)),
  dropped: (id, g) => (g === "main" && id.startsWith("gunicorn-sync.2x0p5cpu") && id.endsWith("r1") ? 7 : 0),
});

describe("renderMarkdown", () => {
  const md = renderMarkdown(run);

  it("states the environment and how the figures were made", () => {
    expect(md).toMatch(/^# fiblab run 20261125T181500Z-demo: demo/);
    expect(md).toContain("| Host | lab-host |");
    expect(md).toContain("| Docker | 28.0.1 |");
    expect(md).toContain("merged HdrHistograms");
    expect(md).toContain("seed 42");
  });

  it("says which figures came from the open model and which from the closed", () => {
    expect(md).toMatch(/Open model \(fixed arrival rate\): fib30\/main \(k6\)\./);
    expect(md).toMatch(/Closed model \(fixed connections[^\n]*\): fib30\/probe \(autocannon\)\./);
    expect(md).toMatch(/## fib30 \/ main\n\nHTTP, open model via k6 \(latency from the actual send; arrivals that found no free VU dropped\)/);
    expect(md).toMatch(/## fib30 \/ probe\n\nHTTP, closed model via autocannon \(latency from the actual send\)/);
  });

  it("warns about autocannon's resolution", () => {
    expect(md).toMatch(/autocannon: closed model only, latency from its send; used as the saturation tool/);
  });

  it("has a table row per model and topology with throughput, percentiles and resources", () => {
    const header = md.split("\n").find((l) => l.startsWith("| Model |"))!;
    expect(header).toContain("Throughput req/s (mean ± sd)");
    expect(header).toContain("p99.9 ms");
    const row = md.split("\n").find((l) => l.startsWith("| py-threads | 1 × 1 cpu, 2 workers | open 50 req/s · k6 |"))!;
    expect(row).toBeDefined();
    const cells = row.split(" | ");
    expect(cells[3]).toBe("3"); // repeats
    expect(cells[4]).toBe("120 ± 10.0"); // (110, 120, 130) req/s
    expect(cells[5]).toBe("8.3%"); // CV
    expect(cells[6]).toMatch(/^4\.0\d \(2\.0\d–6\.0\d\)$/); // p50 mean (range) over repeats
    expect(row).toContain("0.80 / 1 cores");
    expect(row).toContain("5.0%"); // throttled
    expect(row).toContain("proc cv 0");
    const probe = md.split("\n").find((l) => l.startsWith("| gunicorn-sync | 2 × 0.5 cpu | closed 4 conn · autocannon |"));
    expect(probe).toBeDefined();
    expect(md.split("\n").filter((l) => /^\| (py-threads|gunicorn-sync) \|/.test(l))).toHaveLength(8);
  });

  it("flags open-model load that was not delivered", () => {
    const row = md.split("\n").find((l) => l.startsWith("| gunicorn-sync | 2 × 0.5 cpu | open 50 req/s · k6 |"))!;
    expect(row).toContain("14 ⚠ load not delivered in 1/3 repeats");
    expect(md).toMatch(/gunicorn-sync 2x0p5cpu: open-model load not delivered/);
  });

  it("escapes pipes inside cells", () => {
    const odd = { ...run, rows: run.rows.map((r) => ({ ...r, model: "a|b" })) };
    expect(renderMarkdown(odd)).toContain("| a\\|b |");
  });
});

describe("renderHtml", () => {
  const fakeChart = "window.Chart = function () {}; /* </script> inside a comment */";
  const html = renderHtml(run, { chartJs: fakeChart });

  it("is one self-contained page: chart.js inlined, nothing fetched", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain("window.Chart = function () {};");
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).not.toContain("/* </script>"); // escaped, so it cannot close the element early
    expect(html.match(/<\/script>/g)).toHaveLength(3);
  });

  it("has the tables, the open/closed labels and a throughput and a latency chart per group", () => {
    expect(html).toContain("<th>Throughput req/s (mean ± sd)</th>");
    expect(html).toContain("<td>120 ± 10.0</td>");
    expect(html).toContain('<span class="model-open">open model</span> via k6');
    expect(html).toContain('<span class="model-closed">closed model</span> via autocannon');
    expect(html.match(/<canvas id="chart-\d-tp">/g)).toHaveLength(2);
    expect(html.match(/<canvas id="chart-\d-lat">/g)).toHaveLength(2);
    expect(html).toContain('type: "logarithmic"');
  });

  it("embeds chart data that parses", () => {
    const json = /<script id="fiblab-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
    const data = JSON.parse(json);
    expect(data).toHaveLength(2);
    expect(data[0].labels[0]).toBe("py-threads · 1x1cpu-w2");
    expect(data[0].throughput.mean[0]).toBeCloseTo(120, 8);
    expect(data[0].latency[0].values).toHaveLength(5);
  });

  it("its drawing script runs and asks chart.js for a bar and a log-scale line chart per group", () => {
    const scripts = [...html.matchAll(/<script(?: [^>]*)?>(.*?)<\/script>/gs)].map((m) => m[1]!);
    const data = scripts[0]!;
    const configs: { type: string; options: any; data: any }[] = [];
    const sandbox = {
      document: { getElementById: (id: string) => (id === "fiblab-data" ? { textContent: data } : { id }) },
      Chart: function (_el: unknown, config: any) {
        configs.push(config);
      },
    };
    vm.runInNewContext(scripts[2]!, sandbox);
    expect(configs.map((c) => c.type)).toEqual(["bar", "line", "bar", "line"]);
    expect(configs[1]!.options.scales.y.type).toBe("logarithmic");
    expect(configs[0]!.data.datasets[0].data[0]).toBeCloseTo(120, 8);
    expect(configs[0]!.options.plugins.title.text).toBe("Throughput (open model)");
    expect(configs[3]!.options.plugins.title.text).toMatch(/closed model/);
  });

  it("escapes text from the scenario", () => {
    const odd = { ...run, description: "<img src=x onerror=alert(1)>" };
    const page = renderHtml(odd, { chartJs: "" });
    expect(page).not.toContain("<img");
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
  });

  it("inlines the real chart.js build when read from node_modules", async () => {
    const js = await readChartJs();
    expect(js.length).toBeGreaterThan(100_000);
    expect(js).toMatch(/Chart/);
    expect(renderHtml(run, { chartJs: js }).length).toBeGreaterThan(js.length);
  });
});

describe("compareRuns", () => {
  it("gives deltas per row and marks changes whose intervals do not overlap", () => {
    const faster = runOf(scenario, {
      okPerClient: (id) => (id.startsWith("py-threads.1x1cpu-w2") ? 2000 : 1000) + 100 * Number(id.slice(-1)),
      latencyUs: (id, g) => (g === "main" ? 2000 : 800) * Number(id.slice(-1)),
    });
    const c = compareRuns(run, { ...faster, runId: "next" });
    expect(c.rows).toHaveLength(8);
    const r = c.rows.find((x) => x.key === "py-threads.1x1cpu-w2.fib30.main")!;
    expect(r.throughput.base).toBeCloseTo(120, 8);
    expect(r.throughput.next).toBeCloseTo(220, 8);
    expect(r.throughput.pct).toBeCloseTo((100 * 100) / 120, 8);
    expect(r.throughput.distinct).toBe(true);
    const same = c.rows.find((x) => x.key === "py-threads.2x0p5cpu.fib30.main")!;
    expect(same.throughput.diff).toBeCloseTo(0, 8);
    expect(same.throughput.distinct).toBe(false);
    const md = renderComparisonMarkdown(c);
    expect(md).toContain("120 → 220 (+83.3%) *");
  });

  it("lists keys found in only one run", () => {
    const fewer = { ...run, runId: "next", rows: run.rows.slice(1) };
    const c = compareRuns(run, fewer);
    expect(c.onlyInBase).toEqual(["py-threads.1x1cpu-w2.fib30.main"]);
    expect(c.onlyInNext).toEqual([]);
  });
});
