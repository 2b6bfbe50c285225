import { describe, expect, it } from "vitest";
import { checkHttpReply, checkTcpReply, expectedHttpBody, fibString, mixSequence, parseMix, WeightedCycle } from "../src/mix.js";

describe("mix parsing", () => {
  it("reads {n, weight} and {path, weight} entries, weight defaulting to 1", () => {
    expect(parseMix('[{"n":25,"weight":9},{"path":"/fib/1"},{"path":"/sleep/50","weight":0.5}]')).toEqual([
      { n: 25, path: "/fib/25", weight: 9 },
      { n: 1, path: "/fib/1", weight: 1 },
      { n: null, path: "/sleep/50", weight: 0.5 },
    ]);
  });
  it("reads the short text form and a single object", () => {
    expect(parseMix("30:1, 1:9")).toEqual([
      { n: 30, path: "/fib/30", weight: 1 },
      { n: 1, path: "/fib/1", weight: 9 },
    ]);
    expect(parseMix("20")).toEqual([{ n: 20, path: "/fib/20", weight: 1 }]);
    expect(parseMix('{"n":3}')).toEqual([{ n: 3, path: "/fib/3", weight: 1 }]);
  });
  it("rejects what it cannot send", () => {
    expect(() => parseMix("")).toThrow(/empty/);
    expect(() => parseMix("[]")).toThrow(/no entries/);
    expect(() => parseMix('[{"n":-1}]')).toThrow(/n must be/);
    expect(() => parseMix('[{"n":2.5}]')).toThrow(/n must be/);
    expect(() => parseMix('[{"n":2,"weight":0}]')).toThrow(/weight/);
    expect(() => parseMix('[{"path":"fib/2"}]')).toThrow(/path/);
    expect(() => parseMix("x:1")).toThrow(/n must be/);
  });
});

describe("weighted choice", () => {
  it("smooth round robin is exact per cycle and interleaved", () => {
    const c = new WeightedCycle([1, 3]);
    const picks = Array.from({ length: 8 }, () => c.next());
    expect(picks.filter((p) => p === 0)).toHaveLength(2);
    expect(picks.slice(0, 4).filter((p) => p === 0)).toHaveLength(1);
  });
  it("keeps fractional weights in proportion", () => {
    const c = new WeightedCycle([0.9, 0.1]);
    const picks = Array.from({ length: 1000 }, () => c.next());
    expect(picks.filter((p) => p === 1)).toHaveLength(100);
  });
  it("mixSequence is exact for small integer weights, 100 long otherwise", () => {
    const mix = parseMix("1:3,2:1");
    const seq = mixSequence(mix);
    expect(seq).toHaveLength(4);
    expect(seq.filter((i) => i === 0)).toHaveLength(3);
    const frac = mixSequence(parseMix('[{"n":1,"weight":0.7},{"n":2,"weight":0.3}]'));
    expect(frac).toHaveLength(100);
    expect(frac.filter((i) => i === 1)).toHaveLength(30);
  });
});

describe("reply checking", () => {
  it("knows fib", () => {
    expect([0, 1, 2, 3, 10, 20, 35].map(fibString)).toEqual(["0", "1", "1", "2", "55", "6765", "9227465"]);
    expect(fibString(100)).toBe("354224848179261915075");
    expect(() => fibString(201)).toThrow();
  });
  it("classifies TCP reply lines", () => {
    expect(checkTcpReply("6765", 20)).toBe("ok");
    expect(checkTcpReply("6765\r", 20)).toBe("ok");
    expect(checkTcpReply("6766", 20)).toBe("wrong_answer");
    expect(checkTcpReply("", 20)).toBe("wrong_answer");
    expect(checkTcpReply("error: n over the cap", 99)).toBe("error_reply");
  });
  it("classifies HTTP replies", () => {
    expect(expectedHttpBody("/fib/20")).toBe("6765\n");
    expect(expectedHttpBody("/sleep/50")).toBe("ok\n");
    expect(expectedHttpBody("/healthz")).toBeNull();
    expect(checkHttpReply(200, "6765\n", "6765\n")).toBe("ok");
    expect(checkHttpReply(200, "6765", "6765\n")).toBe("wrong_answer");
    expect(checkHttpReply(200, "anything", null)).toBe("ok");
    expect(checkHttpReply(422, "", "x")).toBe("http_4xx");
    expect(checkHttpReply(502, "", "x")).toBe("http_5xx");
    expect(checkHttpReply(301, "", "x")).toBe("http_other");
  });
});
