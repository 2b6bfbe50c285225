import { describe, expect, it } from "vitest";
import type { RunListing } from "../../../src/archive/index.js";
import { compareFile, comparePairs, durationLabel, hrefOf, renderIndexPage, utcLabel } from "../../../src/archive/index-page.js";

function listing(over: Partial<RunListing> & { id: string }): RunListing {
  return {
    dir: over.id,
    scenario: "smoke",
    startedAt: "2026-11-25T18:15:00.000Z",
    finishedAt: "2026-11-25T18:19:05.000Z",
    status: "complete",
    cells: 3,
    gitCommit: "0123456789abcdef0123",
    indexed: true,
    onDisk: true,
    ...over,
  };
}

const runs: RunListing[] = [
  listing({ id: "20261125T181500Z-smoke" }),
  listing({ id: "20261125T190000Z-beazley", scenario: "beazley", startedAt: "2026-11-25T19:00:00.000Z", finishedAt: null }),
  listing({
    id: "20261126T080000Z-smoke",
    dir: "20261126T080000Z-smoke.INCOMPLETE",
    startedAt: "2026-11-26T08:00:00.000Z",
    status: "incomplete",
    cells: 1,
    reason: "interrupted by SIGINT <script>alert(1)</script> & more",
  }),
  listing({ id: "20261126T090000Z-smoke", startedAt: "2026-11-26T09:00:00.000Z", finishedAt: "2026-11-26T09:00:40.000Z" }),
  listing({ id: "20261126T100000Z-smoke", startedAt: "2026-11-26T10:00:00.000Z", onDisk: false }),
  listing({ id: "20261126T110000Z-smoke", startedAt: "2026-11-26T11:00:00.000Z", finishedAt: "2026-11-26T13:05:00.000Z" }),
  listing({
    id: "20261126T120000Z-smoke",
    dir: ".incomplete-20261126T120000Z-smoke",
    startedAt: "2026-11-26T12:00:00.000Z",
    finishedAt: null,
    status: "in-progress",
    cells: null,
    gitCommit: null,
    indexed: false,
  }),
];

/** The <tr> of one run. */
function rowOf(html: string, id: string): string {
  const m = new RegExp(`<tr id="run-${id}"[^>]*>.*?</tr>`).exec(html);
  if (!m) throw new Error(`no row for ${id}`);
  return m[0];
}

describe("comparePairs", () => {
  it("pairs each complete run on disk with the previous one of its scenario, skipping incomplete and missing runs", () => {
    const pairs = comparePairs([...runs].reverse());
    expect(pairs.map((p) => [p.scenario, p.base.id, p.next.id])).toEqual([
      ["smoke", "20261125T181500Z-smoke", "20261126T090000Z-smoke"],
      ["smoke", "20261126T090000Z-smoke", "20261126T110000Z-smoke"],
    ]);
    expect(pairs[0]!.file).toBe("compare/20261125T181500Z-smoke__20261126T090000Z-smoke.html");
  });

  it("never pairs runs of different scenarios", () => {
    expect(
      comparePairs([listing({ id: "a", scenario: "x" }), listing({ id: "b", scenario: "y", startedAt: "2027-01-01T00:00:00Z" })]),
    ).toEqual([]);
  });
});

describe("renderIndexPage", () => {
  const html = renderIndexPage(runs, { generatedAt: "2026-11-26T14:00:00.000Z" });

  it("is one standalone page with no script and no external resource", () => {
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).toContain("7 run(s) of 2 scenario(s), 5 complete");
    expect(html).toContain("Page made 2026-11-26 14:00:00 UTC");
  });

  it("groups runs by scenario, the scenario of the newest run first, newest runs first", () => {
    expect(html.indexOf('data-scenario="smoke"')).toBeLessThan(html.indexOf('data-scenario="beazley"'));
    const ids = [...html.matchAll(/<tr id="run-([^"]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual([
      "20261126T120000Z-smoke",
      "20261126T110000Z-smoke",
      "20261126T100000Z-smoke",
      "20261126T090000Z-smoke",
      "20261126T080000Z-smoke",
      "20261125T181500Z-smoke",
      "20261125T190000Z-beazley",
    ]);
  });

  it("links complete runs to their report and to the comparison with the previous complete run, relative to results/", () => {
    const row = rowOf(html, "20261126T110000Z-smoke");
    expect(row).toContain('<a class="report" href="20261126T110000Z-smoke/report.html">report</a>');
    expect(row).toContain('href="compare/20261126T090000Z-smoke__20261126T110000Z-smoke.html"');
    expect(row).toContain("vs 20261126T090000Z-smoke");
    expect(row).toContain("2026-11-26 11:00:00 UTC");
    expect(row).toContain("2 h 05 min");
    expect(row).toContain("<code>0123456789ab</code>");
    // The first complete run of a scenario has nothing to be compared with.
    expect(rowOf(html, "20261125T181500Z-smoke")).not.toContain('class="compare"');
    expect(rowOf(html, "20261125T181500Z-smoke")).toContain("4 min 05 s");
  });

  it("lists incomplete runs with their reason, escaped, and no report or compare link", () => {
    const row = rowOf(html, "20261126T080000Z-smoke");
    expect(row).toContain('<span class="status status-incomplete">incomplete</span>');
    expect(row).toContain("interrupted by SIGINT &lt;script&gt;alert(1)&lt;/script&gt; &amp; more");
    expect(row).not.toContain("<a ");
    expect(html).not.toContain("<script>alert(1)");
  });

  it("marks runs in progress and runs whose folder is gone, without links", () => {
    const progress = rowOf(html, "20261126T120000Z-smoke");
    expect(progress).toContain("status-in-progress");
    expect(progress).toContain("in progress");
    expect(progress).not.toContain("<a ");
    const missing = rowOf(html, "20261126T100000Z-smoke");
    expect(missing).toContain('<span class="status status-missing">complete, folder missing</span>');
    expect(missing).not.toContain("<a ");
  });

  it("escapes scenario names and ids everywhere", () => {
    const odd = renderIndexPage([listing({ id: 'x"<b>', dir: "x&y", scenario: "<i>evil</i>" })], {
      generatedAt: "2026-11-26T14:00:00.000Z",
    });
    expect(odd).not.toContain("<i>evil</i>");
    expect(odd).toContain("&lt;i&gt;evil&lt;/i&gt;");
    expect(odd).toContain('id="run-x&quot;&lt;b&gt;"');
    expect(odd).toContain('href="x%26y/report.html"');
  });

  it("links only the compare pages that exist when told which do", () => {
    const some = renderIndexPage(runs, {
      generatedAt: "2026-11-26T14:00:00.000Z",
      compares: new Set([compareFile("20261125T181500Z-smoke", "20261126T090000Z-smoke")]),
    });
    expect(rowOf(some, "20261126T090000Z-smoke")).toContain('class="compare"');
    expect(rowOf(some, "20261126T110000Z-smoke")).not.toContain('class="compare"');
  });

  it("says how to start when there are no runs", () => {
    expect(renderIndexPage([], { generatedAt: "2026-11-26T14:00:00.000Z" })).toContain("No runs yet");
  });
});

describe("labels", () => {
  it("formats times, durations and hrefs", () => {
    expect(utcLabel("2026-11-25T18:15:00.456Z")).toBe("2026-11-25 18:15:00 UTC");
    expect(utcLabel(null)).toBe("—");
    expect(utcLabel("soon")).toBe("soon");
    expect(durationLabel("2026-11-25T18:15:00Z", "2026-11-25T18:15:42Z")).toBe("42 s");
    expect(durationLabel("2026-11-25T18:15:00Z", null)).toBe("—");
    expect(durationLabel("2026-11-25T18:15:00Z", "2026-11-25T18:00:00Z")).toBe("—");
    expect(hrefOf("a b", "c#d/report.html")).toBe("a%20b/c%23d/report.html");
  });
});
