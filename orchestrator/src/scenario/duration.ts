/**
 * Durations in scenario files are written with a unit ("500ms", "20s", "1m", "1m30s") so that a
 * bare number can never be read as the wrong unit.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Milliseconds for a duration text, or undefined when the text is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === "") return undefined;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  }
  return Math.round(total);
}

export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new Error(`not a duration: ${JSON.stringify(text)} (write e.g. "500ms", "20s", "1m", "1m30s")`);
  return ms;
}

/** The shortest exact text for a duration in ms ("1m30s", "500ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const [unit, size] of [
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}
