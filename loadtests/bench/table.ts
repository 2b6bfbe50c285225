/**
 * Pure helpers of the benchmarks: a plain-text table, number formats, ratios, and wrk's output
 * read into figures. No I/O here.
 */

/** A right-aligned plain-text table (the first column left-aligned), one line per row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (s: string, i: number) => (i === 0 ? s.padEnd(widths[i] ?? 0) : s.padStart(widths[i] ?? 0));
  const line = (r: readonly string[]) =>
    r
      .map((s, i) => cell(s, i))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** A number with a fixed count of decimals, or "–" when unknown. */
export function fmt(x: number | null | undefined, decimals = 0): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return x.toLocaleString("en-US", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Milliseconds, three significant figures or so (0.123, 1.23, 12.3, 123). */
export function ms(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  return fmt(x, x < 1 ? 3 : x < 10 ? 2 : x < 100 ? 1 : 0);
}

/** a / b, or null when either is unknown or b is not positive. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0) || !Number.isFinite(a)) return null;
  return a / b;
}

/** A ratio as "1.23×". */
export function times(r: number | null): string {
  return r === null ? "–" : `${fmt(r, 2)}×`;
}

/** An overhead ratio as a signed percentage: 1.07 → "+7 %". */
export function overhead(r: number | null): string {
  if (r === null) return "–";
  const pct = (r - 1) * 100;
  return `${pct >= 0 ? "+" : "−"}${fmt(Math.abs(pct), 0)} %`;
}

/** What wrk printed, as figures (latencies in ms). */
export interface WrkFigures {
  requests: number;
  seconds: number;
  rps: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  non2xx: number;
  socketErrors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "512.33us", "1.20ms", "2.00s" → milliseconds. */
export function wrkTime(text: string): number | null {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  return m ? Number(m[1]) * (UNIT_MS[m[2] as string] as number) : null;
}

/** Reads the figures of `wrk --latency` from its output; throws when the totals are missing. */
export function parseWrk(out: string): WrkFigures {
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),/m.exec(out);
  const rps = /^Requests\/sec:\s*([\d.]+)/m.exec(out);
  if (!total || !rps) throw new Error(`not wrk --latency output:\n${out}`);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s*${p}%\\s+(\\S+)`, "m").exec(out);
    return m ? wrkTime(m[1] as string) : null;
  };
  const latency = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(out);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    seconds: (wrkTime(`${total[2]}${total[3]}`) as number) / 1000,
    rps: Number(rps[1]),
    p50: pct("50"),
    p99: pct("99"),
    max: latency ? wrkTime(latency[3] as string) : null,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socketErrors: errors ? errors.slice(1).reduce((a, n) => a + Number(n), 0) : 0,
  };
}
