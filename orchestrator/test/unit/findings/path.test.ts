import { describe, expect, it } from "vitest";
import { evaluate, parseExpression, PathError, resolvePath, runsOf } from "../../../src/findings/path.js";

/** The annotation's expression language, on a tiny summary. */

const summary = {
  runId: "r1",
  rows: [
    { key: "a.1x1cpu-w2.w.g", topology: { id: "1x1cpu-w2" }, throughput: { mean: 300 }, latency: { p99: 12 } },
    { key: "a.2x0p5cpu-w1.w.g", topology: { id: "2x0p5cpu-w1" }, throughput: { mean: 200 }, latency: { p99: 48 } },
  ],
};
const runs = new Map<string, unknown>([
  ["r1", summary],
  ["r2", { rows: [{ key: "a.1x1cpu-w2.w.g", throughput: { mean: 150 } }] }],
]);
const value = (src: string) => evaluate(parseExpression(src), runs, "r1");

describe("findings path language", () => {
  it("dotted keys inside brackets, numeric indexes, dotted condition fields", () => {
    expect(value("rows[key=a.2x0p5cpu-w1.w.g].throughput.mean")).toBe(200);
    expect(value("rows[1].latency.p99")).toBe(48);
    expect(value("rows[topology.id=1x1cpu-w2].latency.p99")).toBe(12);
    const e = parseExpression("rows[0].topology");
    if (e.kind !== "path") throw new Error("a path");
    expect(resolvePath(summary, e.segments)).toEqual({ id: "1x1cpu-w2" });
  });

  it("arithmetic with precedence, parentheses, constants and a minus after a path", () => {
    expect(value("rows[1].latency.p99 / rows[0].latency.p99")).toBe(4);
    expect(value("100 * rows[1].throughput.mean / rows[0].throughput.mean")).toBeCloseTo(66.667, 3);
    expect(value("rows[0].throughput.mean-rows[1].throughput.mean")).toBe(100);
    expect(value("(rows[0].throughput.mean + rows[1].throughput.mean) / 2")).toBe(250);
    expect(value("-rows[0].latency.p99 + 2 * 3")).toBe(-6);
  });

  it("run= switches the run for every later path", () => {
    const e = parseExpression("rows[0].throughput.mean / run=r2: rows[0].throughput.mean");
    expect(runsOf(e)).toEqual([undefined, "r2"]);
    expect(evaluate(e, runs, "r1")).toBe(2);
    expect(runsOf(parseExpression("run=r2: rows[0].a / rows[0].b"))).toEqual(["r2", "r2"]);
  });

  it("errors say what and where", () => {
    const err = (src: string) => {
      try {
        value(src);
      } catch (e) {
        expect(e).toBeInstanceOf(PathError);
        return (e as Error).message;
      }
      return "no error";
    };
    expect(err("rows[5].latency.p99")).toBe("rows[5]: rows has 2 element(s)");
    expect(err("rows[0].latency.p99 / 0")).toBe("division by zero");
    expect(err("rows[0].latency.p99 rows")).toBe("unexpected path rows after a complete expression");
    expect(err("rows[key]")).toBe("bad selector [key] after rows: write [field=value] or [0]");
    expect(err("rows[0] ? 1")).toBe('unexpected "?" at column 9');
    expect(err("rows[0].throughput")).toBe("rows[0].throughput is an object, not a number");
    expect(err("run=r3: rows[0].x")).toBe("run r3 is not declared (<!-- findings-run: r3 -->)");
    expect(err("")).toBe("empty expression");
  });
});
