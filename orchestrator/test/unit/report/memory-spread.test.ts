import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { workerSpread } from "../../../src/measure/cell-summary.js";
import { summariseRun } from "../../../src/measure/run-summary.js";
import { renderHtml } from "../../../src/report/html.js";
import { renderMarkdown } from "../../../src/report/markdown.js";
import { cellsOf, memoryOf, validScenario } from "../fixtures.js";

// The memory column and the work-spread charts of the reports, on fixed data.
const scenario = validScenario();
const KB_PER_MIB = 1024;
const cells = cellsOf(scenario, {
  // 1 replica: a master (20 MiB PSS) and two workers (10 MiB), each mapping 30 MiB; 2 replicas: one 25 MiB process each.
  memory: (id) =>
    id.includes("2x0p5cpu")
      ? memoryOf([[{ pss: 25 * KB_PER_MIB, rss: 25 * KB_PER_MIB }], [{ pss: 25 * KB_PER_MIB, rss: 25 * KB_PER_MIB }]])
      : memoryOf([[20, 10, 10].map((pss) => ({ pss: (pss + Number(id.slice(-1))) * KB_PER_MIB, rss: 30 * KB_PER_MIB }))]),
}).map((c) => ({
  ...c,
  // 2 replicas of which the first answered 3/4; 1 replica whose workers answered 600 and 200.
  groups: c.groups.map((g) => ({
    ...g,
    workers: c.id.includes("2x0p5cpu") ? workerSpread({ "aaa/1": 300, "bbb/1": 100 }, 2) : workerSpread({ "aaa/7": 600, "aaa/9": 200 }, 1),
  })),
}));
const run = summariseRun({
  runId: "20261125T181500Z-demo",
  scenario,
  seed: 42,
  startedAt: "2026-11-25T18:15:00.000Z",
  finishedAt: "2026-11-25T18:45:00.000Z",
  environment: {},
  cells,
});

const rowOf = (md: string, prefix: string) => md.split("\n").find((l) => l.startsWith(prefix))!;

describe("the memory column", () => {
  const md = renderMarkdown(run);

  it("gives the PSS sum (mean, repeats' min–max) beside RSS and cgroup sums", () => {
    expect(md).toContain("| Memory, model (sums; PSS repeats min–max) |");
    // repeats r1..r3: PSS (20+r) + 2 (10+r) MiB = 43, 46, 49; RSS 90 MiB
    const one = rowOf(md, "| py-threads | 1 × 1 cpu, 2 workers | open 50 req/s · k6 |");
    expect(one).toContain("| PSS 46.0 (43.0–49.0) · RSS 90.0 · cgroup 64.0 MiB, 3 proc |");
    const two = rowOf(md, "| py-threads | 2 × 0.5 cpu | open 50 req/s · k6 |");
    expect(two).toContain("| PSS 50.0 (50.0–50.0) · RSS 50.0 · cgroup 128 MiB, 2 proc |");
  });

  it("explains PSS in the method notes", () => {
    expect(md).toMatch(/PSS \(proportional set size\) divides each page among the processes that map it/);
    expect(md).toMatch(/copy-on-write pages a pre-fork master shares with its workers once/);
  });

  it("is a dash for a run without readings", () => {
    const plain = summariseRun({ ...runInput(), cells: cellsOf(scenario) });
    const line = rowOf(renderMarkdown(plain), "| py-threads | 1 × 1 cpu, 2 workers | open 50 req/s · k6 |");
    expect(line.split(" | ")[14]).toBe("—");
  });
});

function runInput() {
  return { runId: "x", scenario, seed: 1, startedAt: "a", finishedAt: "b", environment: {}, cells };
}

describe("evenness in the tables", () => {
  it("shows max/mean over processes and over replicas", () => {
    const md = renderMarkdown(run);
    // processes 600, 200: mean 400, max/mean 1.5, max/min 3
    expect(rowOf(md, "| py-threads | 1 × 1 cpu, 2 workers | open 50 req/s · k6 |")).toMatch(
      /proc cv 0\.50, max\/mean 1\.50, max\/min 3\.00/,
    );
    // replicas 300, 100: replica max/mean 1.5
    expect(rowOf(md, "| py-threads | 2 × 0.5 cpu | open 50 req/s · k6 |")).toContain("replica max/mean 1.50");
  });
});

describe("the work-spread charts", () => {
  const html = renderHtml(run, { chartJs: "" });
  const scripts = [...html.matchAll(/<script(?: [^>]*)?>(.*?)<\/script>/gs)].map((m) => m[1]!);
  const json = /<script id="fiblab-spread" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!;
  const spread = JSON.parse(json);

  it("embeds one chart per row with X-Worker counts: processes by replica, replicas with the mean", () => {
    expect(spread).toHaveLength(8);
    const one = spread.find((c: { title: string }) => c.title.startsWith("py-threads · 1x1cpu-w2"));
    expect(one.processes).toEqual([
      { label: "r1 · pid 7", replica: 1, count: 600 },
      { label: "r1 · pid 9", replica: 1, count: 200 },
    ]);
    expect(one.meanPerProcess).toBe(400);
    expect(one.replicas).toEqual([]);
    expect(one.title).toMatch(/repeat 1 of 3 \(max\/mean 1\.50\)/);
    const two = spread.find((c: { title: string }) => c.title.startsWith("py-threads · 2x0p5cpu"));
    expect(two.replicas).toEqual([
      { label: "r1 (aaa)", count: 300 },
      { label: "r2 (bbb)", count: 100 },
    ]);
    expect(two.meanPerReplica).toBe(200);
    expect(html.match(/<canvas id="chart-\d-spread-\d-proc">/g)).toHaveLength(8);
    expect(html.match(/<canvas id="chart-\d-spread-\d-rep">/g)).toHaveLength(4);
  });

  it("its drawing script makes a bar chart with a mean line for each canvas", () => {
    const configs: { el: { id: string }; type: string; data: any; options: any }[] = [];
    const sandbox = {
      document: {
        getElementById: (id: string) =>
          id === "fiblab-spread" ? { textContent: json } : id === "fiblab-data" ? { textContent: scripts[0] } : { id },
      },
      Chart: function (el: { id: string }, config: any) {
        configs.push({ el, ...config });
      },
    };
    vm.runInNewContext(scripts.at(-1)!, sandbox);
    const mine = configs.filter((c) => c.el.id.includes("-spread-"));
    expect(mine).toHaveLength(12);
    expect(configs).toHaveLength(12 + 4); // and each section's throughput and latency charts
    expect(mine.every((c) => c.type === "bar")).toBe(true);
    const first = mine.find((c) => c.el.id.endsWith("-proc") && c.options.plugins.title.text.startsWith("py-threads · 1x1cpu-w2"))!;
    expect(first.data.datasets[0].data).toEqual([600, 200]);
    expect(first.data.datasets[1]).toMatchObject({ type: "line", label: "mean", data: [400, 400] });
  });

  it("a replica that never answered is a zero bar", () => {
    const lone = cells.map((c) => ({ ...c, groups: c.groups.map((g) => ({ ...g, workers: workerSpread({ "aaa/1": 10 }, 2) })) }));
    const page = renderHtml(summariseRun({ ...runInput(), cells: lone }), { chartJs: "" });
    const data = JSON.parse(/<script id="fiblab-spread" type="application\/json">(.*?)<\/script>/s.exec(page)![1]!);
    const two = data.find((c: { title: string }) => c.title.startsWith("py-threads · 2x0p5cpu"));
    expect(two.replicas).toEqual([
      { label: "r1 (aaa)", count: 10 },
      { label: "r2 (no reply)", count: 0 },
    ]);
    expect(two.title).toMatch(/over replicas 2\.00/);
  });
});
