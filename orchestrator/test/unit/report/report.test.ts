import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { readChartJs } from "../../../src/report/chartjs.js";
import { compareRuns, renderComparisonMarkdown } from "../../../src/report/compare.js";
import { renderHtml } from "../../../src/report/html.js";
import { renderMarkdown } from "../../../src/report/markdown.js";
import { merge, summarise } from "../../../src/measure/histogram.js";
import type { RowSummary } from "../../../src/measure/run-summary.js";
import { num } from "../../../src/report/format.js";
import { cellsOf, differingRepeats, killedAt8s, runOf, twoRepeats, validScenario } from "../fixtures.js";

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
    expect(md).toMatch(
      /## fib30 \/ main\n\nHTTP, open model via k6 \(latency from the actual send; arrivals that found no free VU dropped\)/,
    );
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
    expect(cells[6]).toMatch(/^4\.0\d \(2\.0\d–6\.0\d\)$/); // merged p50 (per-repeat range)
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
    expect(html.match(/<\/script>/g)).toHaveLength(4); // the charts' data, the spread charts' data, chart.js, the drawing
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
    vm.runInNewContext(scripts[3]!, sandbox);
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

/**
 * Two repeats whose p99s are ~2 ms and 100 ms; the p99 of all their requests is ~2 ms, the mean of
 * the two p99s ~51 ms. Every consumer must show the former.
 */
describe("across repeats, every report uses the merged percentiles", () => {
  const two = runOf(twoRepeats, { latenciesUs: (id) => differingRepeats(id) });
  const cells = cellsOf(twoRepeats, { latenciesUs: (id) => differingRepeats(id) });
  const row: RowSummary = two.rows[0]!;
  const groups = cells.filter((c) => c.key === row.cellKey).map((c) => c.groups.find((g) => g.group === row.group)!);
  const mergedP99 = summarise(merge(groups.map((g) => g.histogram)))!.p99;
  const meanP99 = groups.reduce((a, g) => a + g.latency!.p99, 0) / groups.length;

  it("the fixture tells the two apart", () => {
    expect(mergedP99).toBeLessThan(3);
    expect(meanP99).toBeGreaterThan(50);
    expect(num(mergedP99)).not.toBe(num(meanP99));
  });

  it("Markdown: the p99 cell is the merged p99, with the per-repeat range beside it", () => {
    const md = renderMarkdown(two);
    const line = md.split("\n").find((l) => l.startsWith("| py-threads | 1 × 1 cpu, 2 workers | open 50 req/s · k6 |"))!;
    const p99 = line.split(" | ")[7]!;
    expect(p99).toBe(
      `${num(mergedP99)} (${num(Math.min(...groups.map((g) => g.latency!.p99)))}–${num(Math.max(...groups.map((g) => g.latency!.p99)))})`,
    );
    expect(line).not.toContain(num(meanP99));
  });

  it("HTML: the latency chart plots the merged percentiles", () => {
    const html = renderHtml(two, { chartJs: "" });
    const data = JSON.parse(/<script id="fiblab-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!);
    const series = data[0].latency[0];
    expect(series.label).toBe("py-threads · 1x1cpu-w2");
    expect(series.values[2]).toBe(mergedP99);
    expect(series.values[2]).not.toBeCloseTo(meanP99, 0);
    expect(series.range[2]).toEqual([row.latencySpread.p99.min, row.latencySpread.p99.max]);
    expect(html).not.toMatch(/mean over repeats \(" \+ s\.loadModel/); // the latency chart's title no longer says it
  });

  it("compare: deltas of the merged percentiles", () => {
    const c = compareRuns(two, { ...runOf(twoRepeats), runId: "next" });
    const r = c.rows.find((x) => x.key === row.key)!;
    expect(r.p99.base).toBe(mergedP99);
    expect(r.p99.base).not.toBeCloseTo(meanP99, 0);
    expect(renderComparisonMarkdown(c)).toContain(`${num(mergedP99)} → `);
    expect(renderComparisonMarkdown(c)).not.toContain(`${num(meanP99)} → `);
  });
});

describe("compare: significance of a percentile change from the per-repeat spread", () => {
  const at = (us: (id: string) => number) => runOf(scenario, { latencyUs: (id) => us(id) });

  it("marks a change whose per-repeat intervals do not overlap", () => {
    const base = at((id) => 2000 + 10 * Number(id.slice(-1)));
    const next = { ...at((id) => 4000 + 10 * Number(id.slice(-1))), runId: "next" };
    const r = compareRuns(base, next).rows[0]!;
    expect(r.p99.base).toBe(base.rows[0]!.latency!.p99);
    expect(r.p99.next).toBe(next.rows[0]!.latency!.p99);
    expect(r.p99.distinct).toBe(true);
  });

  it("does not mark one that the repeats' spread covers", () => {
    const base = at((id) => [2000, 6000, 4000][Number(id.slice(-1)) - 1]!);
    const next = { ...at((id) => [4200, 2500, 5000][Number(id.slice(-1)) - 1]!), runId: "next" };
    expect(compareRuns(base, next).rows[0]!.p99.distinct).toBe(false);
  });

  it("warns when either side was client-bound or on a busy machine", () => {
    const bound = runOf(scenario, { clientCores: (id, g) => (g === "main" && id.endsWith("r1") ? 0.5 : 0.1) });
    const busy = { ...runOf(scenario, { elsewhereCores: () => 0.5 }), runId: "next" };
    const c = compareRuns(bound, busy);
    expect(c.rows[0]!.warnings).toEqual(["client-bound in base", "machine busy in next"]);
    expect(c.rows[4]!.warnings).toEqual(["machine busy in next"]);
    expect(renderComparisonMarkdown(c)).toContain("⚠ client-bound in base, machine busy in next");
  });
});

describe("the report says what a figure cannot be trusted for", () => {
  const flagged = runOf(scenario, {
    clientCores: (id, g) => (g === "main" && id.startsWith("py-threads.1x1cpu-w2") && id.endsWith("r2") ? 0.49 : 0.2),
    clientThrottled: () => 0.02,
    elsewhereCores: (id) => (id === "gunicorn-sync.2x0p5cpu.fib30.r3" ? 0.4 : 0.02),
    sendLagUs: (id, g, i) => (g === "main" && id.startsWith("py-threads") ? [100, 200, 300, 5000 + i] : undefined),
  });
  const md = renderMarkdown(flagged);
  const html = renderHtml(flagged, { chartJs: "" });
  const line = (prefix: string) => md.split("\n").find((l) => l.startsWith(prefix))!;

  it("says so before anything else", () => {
    expect(md).toMatch(
      /^# fiblab run [^\n]*\n\n[^\n]*\n\n[^\n]*\n\n> ⚠ client-bound: 1 of 8 rows had a load client at its CPU limit in some repeat; these figures measure the client, not the server\.\n> ⚠ machine busy: 1 of 12 cells shared/,
    );
    expect(html).toContain('<p class="warning">⚠ machine busy: 1 of 12 cells shared');
    expect(renderMarkdown(run)).not.toContain("> ⚠");
  });

  it("prints the thresholds in the method notes", () => {
    expect(md).toContain(
      "⚠ client-bound: a client used more than 85% of its CPU limit or was throttled in more than 5% of its CFS periods",
    );
    expect(md).toContain("⚠ machine busy: more than 0.1 of a core was used on the host outside this run's containers");
  });

  it("marks a client-bound row in the table and says what it measures", () => {
    const row = line("| py-threads | 1 × 1 cpu, 2 workers | open 50 req/s · k6 |");
    expect(row).toContain("| 98% of 0.5 cpu, throttled 2.0% |");
    expect(row).toMatch(/\| ⚠ client-bound 1\/3 \|$/);
    expect(line("| py-threads | 2 × 0.5 cpu | open 50 req/s · k6 |")).toMatch(/\| 40% of 0.5 cpu, throttled 2.0% \| [^|]+ \| — \|$/);
    expect(md).toContain(
      "- py-threads 1x1cpu-w2: client-bound in 1 of 3 repeats: these figures measure the client, not the server (r2: client 0 used 98% of its 0.5 cpu; client 1 used 98% of its 0.5 cpu)",
    );
    expect(html).toContain("<td>⚠ client-bound 1/3</td>");
  });

  it("marks a row that ran on a busy machine", () => {
    expect(line("| gunicorn-sync | 2 × 0.5 cpu | open 50 req/s · k6 |")).toMatch(/\| ⚠ machine busy 1\/3 \|$/);
    expect(line("| gunicorn-sync | 2 × 0.5 cpu | closed 4 conn · autocannon |")).toMatch(/\| ⚠ machine busy 1\/3 \|$/);
    expect(md).toContain(
      "gunicorn-sync 2x0p5cpu: machine busy in 1 of 3 repeats: more than 0.1 of a core was used outside this run during the window (r3: 0.40 cores)",
    );
  });

  it("shows the client send lag beside the latency it inflates", () => {
    expect(md).toContain("Client send lag (how late sends left behind their intended time; it is inside the latency above):");
    expect(md).toMatch(/- py-threads 1x1cpu-w2: client send lag p50 0\.20\d? ms, p99 5\.0\d ms, max 5\.0\d ms/);
    expect(md).not.toMatch(/- gunicorn-sync 1x1cpu-w2: client send lag/);
    expect(html).toContain("<li>py-threads 2x0p5cpu: client send lag p50 ");
  });

  it("describes k6 as measuring from the actual send, and only the TCP client from the intended time", () => {
    expect(md).toContain(
      "k6 (constant-arrival-rate) counts from the actual send and drops arrivals that find no free VU (counted as dropped)",
    );
    expect(md).toContain("The TCP client counts latency from each request's intended send time");
    expect(md).not.toMatch(/Open model \(fixed arrival rate; latency counted from the intended send time/);
  });

  it("names the cgroup version and storage driver", () => {
    expect(md).toContain("| cgroup | v2 |");
    expect(md).toContain("| Storage driver | overlay2 |");
  });
});

describe("events and timelines in the reports", () => {
  // main: 2 clients x 10 req/s; a container kill at 8 s empties 2 seconds of client 0 (r3: for good).
  const withEvents = runOf(scenario, {
    intervals: killedAt8s,
    events: (id, t0) => [
      { index: 0, action: "kill-container", plannedAt: t0 + 8000, startedAt: t0 + 8000, endedAt: t0 + 8100, detail: "docker kill" },
      ...(id.startsWith("gunicorn-sync")
        ? [
            {
              index: 1,
              action: "scale" as const,
              plannedAt: t0 + 14_000,
              startedAt: t0 + 14_000,
              endedAt: t0 + 15_000,
              detail: "scale to 3",
              capacityServingMs: 2500,
            },
          ]
        : []),
    ],
  });

  it("Markdown: an events table with errors, no reply, time to recover and capacity or worst second", () => {
    const md = renderMarkdown(withEvents);
    expect(md).toContain("## Events");
    expect(md).toMatch(
      /\| Model \| Topology \| Group \| Event \| Repeats \| Errors in its window \| No reply \| Time to recover \| Capacity serving \/ worst second \|/,
    );
    const line = md.split("\n").find((l) => l.startsWith("| py-threads | 1x1cpu-w2 | fib30 / main (open) | #0 kill-container |"))!;
    expect(line).toBeDefined();
    const cells = line.split(" | ");
    expect(cells[4]).toBe("3");
    expect(cells[5]).toBe("160 (http_5xx 96, reset 64)");
    expect(cells[6]).toBe("64 (reset 64)");
    expect(cells[7]).toBe("2.00 s (2.00 s–2.00 s); did not recover in 1/3");
    expect(cells[8]).toMatch(/^worst second \d+ \(r\d\): 10 errors, 10 ok/);
    const scale = md.split("\n").find((l) => l.startsWith("| gunicorn-sync | 1x1cpu-w2 | fib30 / main (open) | #1 scale |"))!;
    expect(scale).toContain("capacity serving after 2.50 s (2.50 s–2.50 s)");
    expect(md).toContain("within 5% of its pre-event mean");
    expect(renderMarkdown(run)).not.toContain("## Events");
  });

  const html = renderHtml(withEvents, { chartJs: "" });

  it("HTML: the events table and one timeline per cell key, with events open", () => {
    expect(html).toContain("<h2>Events</h2>");
    expect(html).toContain("<h2>Timelines</h2>");
    expect(html.match(/<details open><summary>(?!Work spread)/g)).toHaveLength(4);
    expect(html.match(/<canvas id="timeline-\d-(tp|lat|cpu|live)">/g)).toHaveLength(16);
    const json = /<script id="fiblab-timelines" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
    const t = JSON.parse(json);
    expect(t[0].groups[0].ok.slice(7, 11)).toEqual([20, 10, 10, 20]);
    expect(t[0].events).toEqual([{ at: 8, end: 8.1, label: "#0 kill-container" }]);
    expect(renderHtml(run, { chartJs: "" })).not.toMatch(/<script id="fiblab-timelines"|<h2>Timelines/); // a run without per-second figures
  });

  it("HTML: the drawing script makes four line charts per timeline and marks the events", () => {
    const scripts = [...html.matchAll(/<script(?: [^>]*)?>(.*?)<\/script>/gs)].map((m) => m[1]!);
    expect(scripts).toHaveLength(5);
    const configs: any[] = [];
    const sandbox = {
      document: {
        getElementById: (id: string) =>
          id === "fiblab-data" ? { textContent: scripts[0] } : id === "fiblab-timelines" ? { textContent: scripts[2] } : { id },
      },
      Chart: function (_el: unknown, config: any) {
        configs.push(config);
      },
    };
    vm.runInNewContext(scripts[4]!, sandbox);
    const timeline = configs.filter((c) => c.plugins?.[0]?.id === "fiblabEvents");
    expect(timeline).toHaveLength(16);
    expect(timeline[1].options.scales.y.type).toBe("logarithmic");
    expect(timeline[0].data.datasets[0].data[8]).toEqual({ x: 8.5, y: 10 });
    const drawn: string[] = [];
    const ctx = new Proxy(
      {},
      {
        get: (_t, k: string) =>
          typeof k === "string" && /^[a-z]/.test(k) ? (...a: unknown[]) => drawn.push(`${k}(${a.join(",")})`) : undefined,
        set: () => true,
      },
    );
    timeline[0].plugins[0].afterDatasetsDraw({
      ctx,
      chartArea: { top: 10, bottom: 110 },
      scales: { x: { getPixelForValue: (v: number) => 100 + 10 * v } },
    });
    expect(drawn).toContain("moveTo(180,10)");
    expect(drawn).toContain("fillText(#0 kill-container,183,21)");
  });
});
