import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { agrees, checkFindings, declaredRuns, formatFailure, numberBefore, type RunSource } from "../../../src/findings/check.js";

/** FINDINGS.md's check on fixed data: a real run's summary (rel-check, timelines left out). */

const RUN = "20261127T063038Z-rel-check";
const summary: unknown = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixture", "runs", RUN, "summary.json"), "utf8"));
const A = "rows[key=py-prefork.1x1cpu-w2.fib22-80.fib22]"; // throughput 163.6, limit.fraction 0.29316, p99 44.895
const B = "rows[key=py-prefork.2x0p5cpu-w1.fib22-80.fib22]"; // throughput 187.4, p99 549.887, prediction.p99Ms 8.547

const DECLARE = `<!-- findings-run: ${RUN} -->`;

function check(body: string, sources: ReadonlyMap<string, RunSource> = new Map([[RUN, { summary }]])) {
  return checkFindings(`${DECLARE}\n${body}`, sources);
}

describe("findings check: annotated figures", () => {
  it("a figure that matches the run passes, at the precision written", () => {
    const r = check(`It served 163.6 req/s<!-- ${A}.throughput.mean --> and 164 req/s<!-- ${A}.throughput.mean --> rounded.`);
    expect(r.failures).toEqual([]);
    expect(r.verified).toBe(2);
  });

  it("a figure that rounds differently fails, with the line, the text, the path and the value", () => {
    const r = check(`first line\n\nIt served 163 req/s<!-- ${A}.throughput.mean -->.`);
    expect(r.verified).toBe(0);
    expect(r.failures).toHaveLength(1);
    const f = r.failures[0]!;
    expect(f).toMatchObject({ line: 4, quoted: "163 req/s", expression: `${A}.throughput.mean`, actual: 163.6 });
    expect(formatFailure("FINDINGS.md", f)).toBe(
      `FINDINGS.md:4: "163 req/s" <!-- ${A}.throughput.mean -->: mismatch: the run says 164 (163.6)`,
    );
  });

  it("decimals written are decimals checked: 0.29 matches 0.2932, 0.30 does not, 0.3 does", () => {
    const r = check(`0.29<!-- ${A}.limit.fraction --> 0.30<!-- ${A}.limit.fraction --> 0.3<!-- ${A}.limit.fraction -->`);
    expect(r.verified).toBe(2);
    expect(r.failures.map((f) => f.quoted)).toEqual(["0.30"]);
  });

  it("an unknown key fails and says what is missing", () => {
    const r = check(`1 req/s<!-- rows[key=no-such-row].throughput.mean -->`);
    expect(r.failures).toHaveLength(1);
    expect(r.failures[0]!.message).toBe("no element of rows has key=no-such-row");
    expect(check(`1<!-- ${A}.throughput.meen -->`).failures[0]!.message).toMatch(
      /^no field "meen" in rows\[key=.*\]\.throughput \(it has: n, mean/,
    );
  });

  it("a ratio, a difference and a percentage of a fraction", () => {
    const r = check(
      [
        `1.15×<!-- ${B}.throughput.mean / ${A}.throughput.mean -->`, // 1.1455
        `24 req/s<!-- ${B}.throughput.mean - ${A}.throughput.mean -->`, // 23.8
        `29%<!-- 100 * ${A}.limit.fraction -->`,
        `64×<!-- ${B}.latency.p99 / ${B}.prediction.p99Ms -->`, // 64.34
        `1.14×<!-- ${B}.throughput.mean / ${A}.throughput.mean -->`,
      ].join("\n"),
    );
    expect(r.verified).toBe(4);
    expect(r.failures.map((f) => [f.line, f.quoted])).toEqual([[6, "1.14×"]]);
  });

  it("selectors with several conditions, dotted fields, indexes; an ambiguous one fails", () => {
    const r = check(
      [
        `187.4<!-- rows[workload=fib22-80,topology.id=2x0p5cpu-w1].throughput.mean -->`,
        `1.71 ms<!-- probes[topology=2x0p5cpu-w1].serviceTimes[n=22].cpuMs -->`,
        `163.6<!-- rows[0].throughput.mean -->`,
        `1<!-- rows[workload=fib22-80].throughput.mean -->`,
      ].join("\n"),
    );
    expect(r.verified).toBe(3);
    expect(r.failures.map((f) => f.message)).toEqual(["2 elements of rows have workload=fib22-80: add a condition"]);
  });

  it("a null figure, a text field and a syntax error fail", () => {
    const r = check(
      [`1<!-- ${A}.sendLag -->`, `1<!-- ${A}.model -->`, `1<!-- ${A}.throughput.mean * -->`, `1<!-- rows[key=a -->`].join("\n"),
    );
    expect(r.failures.map((f) => f.message)).toEqual([
      `${A}.sendLag is null, not a number`,
      `${A}.model is string "py-prefork", not a number`,
      "the expression ends too early",
      "unclosed [ at column 5",
    ]);
  });

  it("numbers as prose writes them: thousands, signs, ranges, units between", () => {
    expect(numberBefore("about 1,234.5 req/s", 19)).toEqual({ value: 1234.5, decimals: 1, quoted: "1,234.5 req/s" });
    expect(numberBefore("fell by −3", 10)).toMatchObject({ value: -3, decimals: 0 });
    expect(numberBefore("342-350 req/s", 13)).toMatchObject({ value: 350, quoted: "350 req/s" });
    expect(numberBefore("p99 of the run", 14)).toBeUndefined();
    expect(numberBefore("5 and then a very long stretch of prose", 39)).toBeUndefined();
    expect(agrees({ value: 342, decimals: 0, quoted: "" }, 341.6)).toBe(true);
    expect(agrees({ value: 0.52, decimals: 2, quoted: "" }, 0.5213)).toBe(true);
    expect(agrees({ value: 0.52, decimals: 2, quoted: "" }, 0.5251)).toBe(false);
  });

  it("an annotation with no number before it fails", () => {
    expect(check(`the throughput<!-- ${A}.throughput.mean -->`).failures[0]!.message).toBe("an annotation with no number just before it");
  });

  it("a range, each end annotated", () => {
    const r = check(`163.6<!-- ${A}.throughput.mean -->–187.4 req/s<!-- ${B}.throughput.mean -->`);
    expect(r.failures).toEqual([]);
    expect(r.verified).toBe(2);
  });
});

describe("findings check: unverified figures", () => {
  it("a measurement with no annotation fails, with its line", () => {
    const r = check(["ok line", "It served 163.6 req/s and a p99 of 45 ms, 1.2× more, in 5 s, with 3 errors."].join("\n"));
    expect(r.failures.map((f) => [f.line, f.quoted])).toEqual([
      [3, "163.6 req/s"],
      [3, "45 ms"],
      [3, "1.2×"],
      [3, "5 s"],
      [3, "3 errors"],
    ]);
    expect(r.failures[0]!.message).toMatch(/^unverified figure/);
  });

  it("config quotes, fenced code, inline code, comments and bare percentages are not figures", () => {
    const r = check(
      [
        "> the clients ran 5 s windows at 200 req/s",
        "```",
        "163.6 req/s",
        "```",
        "The rate was `rate: 200 req/s` and 80% of capacity; fib(25) and fib 25 on 2 × 0.5 cpu or 2×0.5 cpu.",
        "<!-- a note spanning",
        "two lines, 45 ms -->",
      ].join("\n"),
    );
    expect(r.failures).toEqual([]);
  });

  it("an unchecked mark needs a reason and is listed", () => {
    const r = check("By hand 1.50 ms<!-- unchecked: timed by hand -->, and 2 ms<!-- unchecked: -->.");
    expect(r.unchecked).toEqual([{ line: 2, quoted: "1.50 ms", reason: "timed by hand" }]);
    expect(r.failures.map((f) => [f.quoted, f.message])).toEqual([["2 ms", "unchecked: say why"]]);
  });
});

describe("findings check: runs", () => {
  it("a declared run with no kept summary fails at its line, and so do the figures citing it", () => {
    const missing = new Map<string, RunSource>([[RUN, { problem: `no docs/findings/${RUN}/summary.json` }]]);
    const r = check(`163.6 req/s<!-- ${A}.throughput.mean -->`, missing);
    expect(r.failures.map((f) => [f.line, f.message])).toEqual([
      [1, `no docs/findings/${RUN}/summary.json`],
      [2, `run ${RUN} has no summary: no docs/findings/${RUN}/summary.json`],
    ]);
  });

  it("a run prefix names another declared run; an undeclared one fails", () => {
    const other = "20200101T000000Z-other";
    const sources = new Map<string, RunSource>([
      [RUN, { summary }],
      [other, { summary: { runId: other, rows: [{ key: "x", throughput: { mean: 81.8 } }] } }],
    ]);
    const body = [
      `<!-- findings-run: ${other} -->`,
      `2×<!-- run=${RUN}: ${A}.throughput.mean / run=${other}: rows[key=x].throughput.mean -->`,
      `1<!-- run=20990101T000000Z-nope: rows[0].throughput.mean -->`,
    ].join("\n");
    const r = check(body, sources);
    expect(r.verified).toBe(1);
    expect(r.failures.map((f) => [f.line, f.message])).toEqual([
      [4, "run 20990101T000000Z-nope is not declared (<!-- findings-run: 20990101T000000Z-nope -->)"],
    ]);
  });

  it("no declaration, a duplicate, a summary of another run", () => {
    expect(checkFindings("163.6 req/s<!-- rows[0].throughput.mean -->", new Map()).failures.map((f) => f.message)).toEqual([
      "no run declared: add <!-- findings-run: <run-id> --> (docs/findings/README.md)",
      "no run declared: add <!-- findings-run: <run-id> --> before it",
    ]);
    expect(check(DECLARE).failures.map((f) => [f.line, f.message])).toEqual([[2, `run ${RUN} is declared twice`]]);
    const wrong = new Map<string, RunSource>([[RUN, { summary: { runId: "elsewhere" } }]]);
    expect(check("", wrong).failures[0]!.message).toBe(`docs/findings/${RUN}/summary.json is the summary of run elsewhere`);
  });

  it("declarations in order; images listed for the caller", () => {
    const md = `${DECLARE}\n<!-- findings-run: b -->\n![tp](docs/findings/${RUN}/charts/x.png) ![web](https://example.org/a.png)`;
    expect(declaredRuns(md)).toEqual([
      { id: RUN, line: 1 },
      { id: "b", line: 2 },
    ]);
    expect(checkFindings(md, new Map()).images).toEqual([{ line: 3, target: `docs/findings/${RUN}/charts/x.png` }]);
  });
});
