import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { renderComparisonHtml } from "../../../src/report/compare-html.js";
import { runOf, validScenario } from "../fixtures.js";

const scenario = validScenario();
const base = runOf(scenario, {
  okPerClient: (id) => 1000 + 100 * Number(id.slice(-1)),
  latencyUs: (id, g) => (g === "main" ? 2000 : 800) * Number(id.slice(-1)),
});
const next = {
  ...runOf(scenario, {
    okPerClient: (id) => (id.startsWith("py-threads.1x1cpu-w2") ? 2000 : 1000) + 100 * Number(id.slice(-1)),
    latencyUs: (id, g) => (g === "main" ? 2000 : 800) * Number(id.slice(-1)),
  }),
  runId: "20261126T090000Z-demo",
};

const fakeChart = "window.Chart = function () {}; /* </script> inside a comment */";

/** Runs the page's drawing script against a stand-in for chart.js; returns the configs it was given. */
function drawn(html: string): { id: string; config: any }[] {
  const scripts = [...html.matchAll(/<script(?: [^>]*)?>(.*?)<\/script>/gs)].map((m) => m[1]!);
  const configs: { id: string; config: any }[] = [];
  const sandbox = {
    document: { getElementById: (id: string) => (id === "fiblab-compare-data" ? { textContent: scripts[0] } : { id }) },
    Chart: function (el: { id: string }, config: any) {
      configs.push({ id: el.id, config });
    },
  };
  vm.runInNewContext(scripts[2]!, sandbox);
  return configs;
}

describe("renderComparisonHtml", () => {
  const html = renderComparisonHtml(
    base,
    next,
    { chartJs: fakeChart },
    { baseReport: "../a/report.html", nextReport: "../b/report.html", index: "../index.html" },
  );

  it("is one self-contained page: chart.js inlined and escaped, nothing fetched", () => {
    expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
    expect(html).toContain("window.Chart = function () {};");
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+href=/);
    expect(html).not.toContain("/* </script>");
    expect(html.match(/<\/script>/g)).toHaveLength(3);
  });

  it("names both runs, links their reports and the index", () => {
    expect(html).toContain("<h1>fiblab comparison: 20261125T181500Z-demo → 20261126T090000Z-demo</h1>");
    expect(html).toContain('<a href="../a/report.html">20261125T181500Z-demo</a>');
    expect(html).toContain('<a href="../b/report.html">20261126T090000Z-demo</a>');
    expect(html).toContain('<a href="../index.html">← all runs</a>');
    expect(html).toContain("commit <code>abc1234</code>");
  });

  it("has a table per workload/group with distinct changes coloured by direction", () => {
    expect(html).toContain("<h2>fib30 / main</h2>");
    expect(html).toContain("<h2>fib30 / probe</h2>");
    expect(html).toContain('<td class="better" title="95% intervals do not overlap">120 → 220 (+83.3%) *</td>');
    expect(html).not.toContain('class="worse"');
    // Unchanged rows are plain.
    expect(html).toMatch(/<td>\d+ → \d+ \(0\.0%\)<\/td>/);
  });

  it("colours a slower next run red", () => {
    const slower = renderComparisonHtml(next, { ...base, runId: "later" }, { chartJs: "" });
    expect(slower).toContain('<td class="worse" title="95% intervals do not overlap">220 → 120 (-45.5%) *</td>');
  });

  it("draws a throughput and a latency chart per group, every one with data", () => {
    const charts = drawn(html);
    expect(charts.map((c) => c.id)).toEqual(["cmp-0-tp", "cmp-0-lat", "cmp-1-tp", "cmp-1-lat"]);
    for (const { id, config } of charts) {
      expect(html).toContain(`<canvas id="${id}">`);
      const points = config.data.datasets.flatMap((d: any) => d.data).filter((v: unknown) => typeof v === "number");
      expect(points.length, id).toBeGreaterThan(0);
      expect(config.options.animation).toBe(false);
    }
    expect(charts[0]!.config.data.datasets.map((d: any) => d.label)).toEqual(["20261125T181500Z-demo", "20261126T090000Z-demo"]);
    expect(charts[1]!.config.options.scales.y.type).toBe("logarithmic");
    expect(charts[1]!.config.data.datasets).toHaveLength(6);
  });

  it("draws no chart for a group where nothing succeeded, and says so", () => {
    const empty = (r: typeof base) => ({
      ...r,
      rows: r.rows.map((row) => ({ ...row, throughput: { ...row.throughput, mean: null }, latency: null })),
    });
    const page = renderComparisonHtml(empty(base), empty(next), { chartJs: "" });
    expect(page).not.toContain("<canvas");
    expect(page).toContain("No figures to chart");
    expect(drawn(page)).toEqual([]);
  });

  it("lists rows found in one run only, and escapes what it shows", () => {
    const odd = {
      ...next,
      scenario: "<b>other</b>",
      rows: next.rows.slice(1).map((r) => ({ ...r, model: r.model === "py-threads" ? "<i>x</i>" : r.model })),
    };
    const page = renderComparisonHtml(base, odd, { chartJs: "" });
    expect(page).toContain(`Only in 20261125T181500Z-demo: ${base.rows[0]!.key}`);
    expect(page).toContain("Different scenarios");
    expect(page).toContain("&lt;b&gt;other&lt;/b&gt;");
    expect(page).not.toContain("<b>other</b>");
    expect(page).not.toContain("<i>x</i>");
  });
});
