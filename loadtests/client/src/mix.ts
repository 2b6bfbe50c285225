/**
 * The request mix and the known answers.
 *
 * MIX is a JSON list; each entry names either a fib n (`{"n": 25, "weight": 9}`) or an HTTP path
 * (`{"path": "/fib/25", "weight": 9}`, `{"path": "/sleep/50"}`); weight defaults to 1. A shorter
 * text form is accepted too: `"25:9,1:1"` (n:weight, comma separated).
 */

export interface MixEntry {
  /** fib n, when the entry is a fib request (always set for the TCP client). */
  n: number | null;
  /** HTTP path (derived as /fib/n when the entry gave only n). */
  path: string;
  weight: number;
}

/** Largest n whose fib the clients check; the service caps n at FIB_MAX (35 by default). */
export const FIB_TABLE_MAX = 200;

let fibTable: string[] | undefined;

/** fib(n) in decimal as the service prints it (fib(0) = 0, fib(1) = fib(2) = 1), from a table computed once. */
export function fibString(n: number): string {
  if (!fibTable) {
    fibTable = [];
    let a = 0n;
    let b = 1n;
    for (let i = 0; i <= FIB_TABLE_MAX; i++) {
      fibTable.push(a.toString());
      [a, b] = [b, a + b];
    }
  }
  const v = fibTable[n];
  if (v === undefined) throw new Error(`fib(${n}) is outside the table (0..${FIB_TABLE_MAX})`);
  return v;
}

function entryFrom(raw: unknown, i: number): MixEntry {
  if (typeof raw !== "object" || raw === null) throw new Error(`MIX[${i}]: expected an object`);
  const r = raw as Record<string, unknown>;
  const weight = r.weight === undefined ? 1 : Number(r.weight);
  if (!Number.isFinite(weight) || weight <= 0) throw new Error(`MIX[${i}]: weight must be a number > 0`);
  let n: number | null = null;
  let path: string;
  if (r.n !== undefined) {
    n = Number(r.n);
    if (!Number.isInteger(n) || n < 0 || n > FIB_TABLE_MAX) throw new Error(`MIX[${i}]: n must be an integer in 0..${FIB_TABLE_MAX}`);
    path = typeof r.path === "string" ? r.path : `/fib/${n}`;
  } else if (typeof r.path === "string" && r.path.startsWith("/")) {
    path = r.path;
    const m = /^\/fib\/(\d+)$/.exec(path);
    if (m) n = Number(m[1]);
  } else {
    throw new Error(`MIX[${i}]: needs n or a path starting with /`);
  }
  return { n, path, weight };
}

export function parseMix(raw: string | undefined): MixEntry[] {
  const text = (raw ?? "").trim();
  if (!text) throw new Error("MIX is empty");
  let list: unknown[];
  if (text.startsWith("[") || text.startsWith("{")) {
    const parsed: unknown = JSON.parse(text);
    list = Array.isArray(parsed) ? parsed : [parsed];
  } else {
    list = text.split(",").map((part) => {
      const [n, w] = part.split(":").map((s) => s.trim());
      return { n: Number(n), weight: w === undefined ? 1 : Number(w) };
    });
  }
  if (list.length === 0) throw new Error("MIX has no entries");
  return list.map(entryFrom);
}

/**
 * Smooth weighted round robin (nginx's): deterministic, interleaved, and exact in proportion
 * over every full cycle, even with fractional weights.
 */
export class WeightedCycle {
  private readonly current: number[];
  private readonly total: number;
  constructor(private readonly weights: readonly number[]) {
    if (weights.length === 0) throw new Error("no weights");
    this.current = weights.map(() => 0);
    this.total = weights.reduce((a, b) => a + b, 0);
  }
  next(): number {
    let best = 0;
    for (let i = 0; i < this.weights.length; i++) {
      this.current[i]! += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= this.total;
    return best;
  }
}

/**
 * A finite sequence of mix indexes for tools that cycle through a fixed request list
 * (autocannon): exact when the weights are integers summing to at most maxLength, otherwise
 * maxLength picks of the smooth round robin (proportions within 1/maxLength).
 */
export function mixSequence(mix: readonly MixEntry[], maxLength = 100): number[] {
  const w = mix.map((e) => e.weight);
  const sum = w.reduce((a, b) => a + b, 0);
  const exact = w.every((x) => Number.isInteger(x)) && sum <= maxLength;
  const length = exact ? sum : maxLength;
  const cycle = new WeightedCycle(w);
  return Array.from({ length }, () => cycle.next());
}

export type ReplyVerdict = "ok" | "error_reply" | "wrong_answer";

/** A TCP reply line (without its newline) checked against fib(n). */
export function checkTcpReply(line: string, n: number): ReplyVerdict {
  const l = line.endsWith("\r") ? line.slice(0, -1) : line;
  if (l === fibString(n)) return "ok";
  if (l.startsWith("error")) return "error_reply";
  return "wrong_answer";
}

/** The body a correct HTTP reply carries, or null when only the status is checked. */
export function expectedHttpBody(path: string): string | null {
  const f = /^\/fib\/(\d+)$/.exec(path);
  if (f) return `${fibString(Number(f[1]))}\n`;
  if (/^\/sleep\/\d+$/.test(path)) return "ok\n";
  return null;
}

export type HttpVerdict = "ok" | "http_4xx" | "http_5xx" | "http_other" | "wrong_answer";

export function checkHttpReply(status: number, body: string, expected: string | null): HttpVerdict {
  if (status >= 500) return "http_5xx";
  if (status >= 400) return "http_4xx";
  if (status !== 200) return "http_other";
  if (expected !== null && body !== expected) return "wrong_answer";
  return "ok";
}
