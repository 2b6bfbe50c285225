import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compactSummary, keptReadme } from "../../../src/findings/compact.js";
import { RunSummarySchema } from "../../../src/measure/run-summary.js";

const RUN = "20261127T063038Z-rel-check";
const text = readFileSync(path.join(import.meta.dirname, "fixture", "runs", RUN, "summary.json"), "utf8");
const parsed = () => JSON.parse(text) as Record<string, any>;

/** A summary grown past a small budget by timelines and per-process spreads. */
function bulky() {
  const s = parsed();
  s.timelines = Array.from({ length: 4 }, (_, i) => ({ cellKey: `c${i}`, padding: "x".repeat(20_000) }));
  for (const r of s.rows) r.spread = [{ repeat: 1, byProcess: { [`h/${"p".repeat(5_000)}`]: 10 } }];
  return s;
}

describe("what findings:keep keeps of summary.json", () => {
  it("under the budget: everything, as the runner indents it", () => {
    const c = compactSummary(parsed(), text);
    expect(c.dropped).toEqual([]);
    expect(c.text).toBe(text);
    expect(c.originalBytes).toBe(Buffer.byteLength(text));
  });

  it("over it: timelines first, then rows[].spread; the rows' figures stay and it parses as a run summary", () => {
    const s = bulky();
    const size = Buffer.byteLength(JSON.stringify(s, null, 2));
    const first = compactSummary(s, "", size - 1000);
    expect(first.dropped).toHaveLength(1);
    expect(first.dropped[0]).toMatch(/^timelines \(4 per-second series/);
    const both = compactSummary(bulky(), "", 40_000);
    expect(both.dropped).toHaveLength(2);
    expect(both.dropped[1]).toMatch(/^rows\[\]\.spread of 4 row\(s\)/);
    const kept = RunSummarySchema.parse(JSON.parse(both.text));
    expect(kept.timelines).toEqual([]);
    expect(kept.rows.map((r) => r.throughput.mean)).toEqual([163.6, 187.4, 41.6, 59.6]);
    expect(Buffer.byteLength(both.text)).toBeLessThan(40_000);
  });

  it("encoded histograms never", () => {
    const s = parsed();
    s.cells[0].groups = [{ histogram: "HISTFAAAA", sendLagHistogram: "HISTFAAAB", latency: { p99: 1 } }];
    const c = compactSummary(s, "");
    expect(c.text).not.toContain("HISTFAAA");
    expect(JSON.parse(c.text).cells[0].groups).toEqual([{ latency: { p99: 1 } }]);
    expect(c.dropped[0]).toMatch(/^2 encoded histogram field\(s\)/);
  });

  it("the README says where it came from and what is not there", () => {
    const md = keptReadme({
      runId: RUN,
      scenario: "rel-check",
      startedAt: "2026-11-27T06:30:38Z",
      source: `results/${RUN}/`,
      summaryBytes: 30_000,
      originalBytes: 40_000,
      dropped: ["timelines (4 per-second series)"],
      copied: ["report.md"],
      charts: [{ file: "a.throughput.png", title: "a: throughput" }],
    });
    expect(md).toContain(`# Run ${RUN} (rel-check), kept for FINDINGS.md`);
    expect(md).toContain("- From summary.json: timelines (4 per-second series).");
    expect(md).toContain("- `charts/a.throughput.png`: a: throughput");
  });
});
