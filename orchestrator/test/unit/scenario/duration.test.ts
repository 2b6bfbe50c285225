import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration, tryParseDuration } from "../../../src/scenario/duration.js";

describe("durations", () => {
  it.each([
    ["500ms", 500],
    ["20s", 20_000],
    ["1m", 60_000],
    ["1m30s", 90_000],
    ["1.5s", 1500],
    ["2h", 7_200_000],
    [" 5s ", 5000],
    ["0s", 0],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["20", "", "s", "5 s", "-1s", "1d", "1m30", "abc"])("%j is not a duration", (text) => {
    expect(tryParseDuration(text)).toBeUndefined();
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });

  it.each([
    [0, "0s"],
    [500, "500ms"],
    [20_000, "20s"],
    [90_000, "1m30s"],
    [3_600_500, "1h500ms"],
  ])("%d ms formats as %s and parses back", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
