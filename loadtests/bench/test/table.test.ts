import { describe, expect, it } from "vitest";
import { overhead, parseWrk, ratio, table, times, wrkTime } from "../table.js";

// What Debian's wrk 4.1 prints with --latency (figures made up, layout as printed).
const WRK = `Running 10s test @ http://model:8000/fib/1
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   612.40us    1.02ms  41.87ms   98.12%
    Req/Sec    25.81k     1.21k   27.90k    71.00%
  Latency Distribution
     50%  471.00us
     75%  533.00us
     90%  640.00us
     99%    2.05ms
  256843 requests in 10.00s, 31.11MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  25683.12
Transfer/sec:      3.11MB
`;

describe("wrk output", () => {
  it("reads totals, percentiles and errors, in ms", () => {
    const f = parseWrk(WRK);
    expect(f).toMatchObject({ requests: 256843, seconds: 10, rps: 25683.12, non2xx: 4, socketErrors: 3 });
    expect(f.p50).toBeCloseTo(0.471);
    expect(f.p99).toBeCloseTo(2.05);
    expect(f.max).toBeCloseTo(41.87);
  });
  it("reads wrk's time units", () => {
    expect(wrkTime("850.00us")).toBeCloseTo(0.85);
    expect(wrkTime("1.50s")).toBe(1500);
    expect(wrkTime("2.00m")).toBe(120_000);
    expect(wrkTime("nope")).toBeNull();
  });
  it("refuses output without totals", () => {
    expect(() => parseWrk("unable to connect to model:8000 Connection refused")).toThrow(/not wrk/);
  });
});

describe("ratios and the table", () => {
  it("is null when a side is unknown or not positive", () => {
    expect(ratio(2, 4)).toBe(0.5);
    expect(ratio(null, 4)).toBeNull();
    expect(ratio(2, 0)).toBeNull();
    expect(times(null)).toBe("–");
    expect(times(1.234)).toBe("1.23×");
    expect(overhead(1.07)).toBe("+7 %");
    expect(overhead(0.9)).toBe("−10 %");
  });
  it("aligns columns: the first left, the rest right", () => {
    expect(
      table(
        ["tool", "req/s"],
        [
          ["wrk", "25,683"],
          ["tcp", "9"],
        ],
      ),
    ).toBe(["tool   req/s", "----  ------", "wrk   25,683", "tcp        9"].join("\n"));
  });
});
