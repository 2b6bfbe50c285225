import { z } from "zod";
import { EventActionSchema, type EventRecord } from "../events/record.js";
import { LoadModelSchema } from "../scenario/schema.js";
import { merge } from "./histogram.js";
import type { GroupSeries, TimeSeries } from "./timeseries.js";

/**
 * What each scripted event did to a cell, read from its per-second time series (pure).
 *
 * Per event and client group:
 * - the **baseline**: the group's per-second throughput (mean) and p99 (of the seconds' merged
 *   histograms where given, else the median of their p99s) over the seconds before the event,
 *   leaving out second 0 of the window (it starts cold) and the seconds an earlier event disturbed;
 * - **time to recover**: from the event's start until per-second throughput is back within
 *   THROUGHPUT_TOLERANCE of the baseline mean (never less than THROUGHPUT_MIN_SLACK req/s) and p99 at most P99_FACTOR × the baseline p99, for
 *   RECOVERY_SECONDS seconds in a row, looked for from the second the action ended in (a cell
 *   cannot have recovered while the action is still going on); "did not recover" when that never
 *   happens in the window. An open model's throughput is its offered rate when healthy, a closed
 *   model's what it sustained: either way the group is held to its own pre-event mean;
 * - the **event's window**: from the second it started in through the last second of the
 *   recovery run (or the window's end): errors by kind inside it, the requests that got no reply
 *   at all (NO_REPLY_KINDS) named as such, and its worst second (most errors, then fewest ok).
 * Scale events carry their capacityServingMs from the record.
 */

export const THROUGHPUT_TOLERANCE = 0.05;
/**
 * Per-second counts are whole requests: at a few requests per second 5 % is less than one, and an
 * open model's uniform schedule alone puts one more or one fewer start in a second. So "within
 * 5 %" is never held to less than this many requests per second.
 */
export const THROUGHPUT_MIN_SLACK = 1;
export const P99_FACTOR = 2;
export const RECOVERY_SECONDS = 3;

/**
 * Error kinds of requests that were sent and got no reply at all: the connection was reset or
 * closed under them, or nothing came back in time (the TCP client's closed_behind_timeout: lost
 * behind a timed-out request when its connection was closed). Refused connects are not here: no
 * request went out.
 */
export const NO_REPLY_KINDS: readonly string[] = ["reset", "closed", "closed_behind_timeout", "timeout"];

export const VerdictSchema = z.enum(["recovered", "did not recover", "no baseline", "outside the window"]);
export type Verdict = z.infer<typeof VerdictSchema>;

const Counts = z.record(z.string(), z.number().int().nonnegative());

export const GroupOutcomeSchema = z.object({
  group: z.string(),
  loadModel: LoadModelSchema,
  baseline: z.object({
    /** Seconds of the window the baseline was taken over. */
    seconds: z.number().int().nonnegative(),
    /** Mean ok replies per second. */
    throughput: z.number().nullable(),
    /** ms. */
    p99: z.number().nullable(),
  }),
  /** The event's window in seconds of the measurement window, [from, to). */
  window: z.object({ fromSecond: z.number().int(), toSecond: z.number().int() }),
  errors: Counts,
  errorsTotal: z.number().int().nonnegative(),
  /** Of the errors, the requests that got no reply at all (reset, closed mid-request, timed out). */
  noReply: Counts,
  noReplyTotal: z.number().int().nonnegative(),
  verdict: VerdictSchema,
  /** From the event's start to the first second of the recovery run, ms; null when it did not recover. */
  recoveryMs: z.number().nonnegative().nullable(),
  recoveredAtSecond: z.number().int().nullable(),
  /** The second of the event's window with the most errors (then the fewest ok). */
  worstSecond: z
    .object({ second: z.number().int(), errors: z.number().int(), ok: z.number().int(), p99: z.number().nullable() })
    .nullable(),
});
export type GroupOutcome = z.infer<typeof GroupOutcomeSchema>;

export const EventOutcomeSchema = z.object({
  index: z.number().int().nonnegative(),
  action: EventActionSchema,
  /** When it started, seconds from the measurement start. */
  atSecond: z.number(),
  /** How long the action itself took, ms. */
  durationMs: z.number(),
  target: z.string().optional(),
  detail: z.string(),
  /** The action could not be carried out. */
  error: z.string().optional(),
  /** scale: from the command until the new capacity served a request, ms; null if it never did. */
  capacityServingMs: z.number().nullable().optional(),
  /** kill-worker, kill-container: from the event's start until the replacement was there, ms; null if it never was. */
  replacementMs: z.number().nullable().optional(),
  /** hang: what became of the hung request ("answered", "status <code>", "cut"). */
  outcome: z.string().optional(),
  groups: z.array(GroupOutcomeSchema),
});
export type EventOutcome = z.infer<typeof EventOutcomeSchema>;

const clampInt = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.floor(x)));

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Baseline {
  seconds: number[];
  throughput: number | null;
  p99: number | null;
}

function baselineOf(g: GroupSeries, seconds: number[], histograms: readonly string[] | undefined): Baseline {
  if (seconds.length === 0) return { seconds, throughput: null, p99: null };
  const throughput = seconds.reduce((a, i) => a + (g.ok[i] ?? 0), 0) / seconds.length;
  let p99: number | null;
  if (histograms) {
    const h = merge(seconds.map((i) => histograms[i] ?? "").filter((x) => x.length > 0));
    p99 = h.totalCount > 0 ? h.getValueAtPercentile(99) / 1000 : null;
  } else {
    p99 = median(seconds.flatMap((i) => (g.p99[i] !== null && g.p99[i] !== undefined ? [g.p99[i]] : [])));
  }
  return { seconds, throughput, p99 };
}

/** A second in which the group is as it was before the event. */
export function healthySecond(g: GroupSeries, i: number, base: Baseline): boolean {
  if (base.throughput === null || base.p99 === null) return false;
  const ok = g.ok[i] ?? 0;
  const p99 = g.p99[i];
  const slack = Math.max(THROUGHPUT_TOLERANCE * base.throughput, THROUGHPUT_MIN_SLACK);
  return Math.abs(ok - base.throughput) <= slack && p99 !== null && p99 !== undefined && p99 <= P99_FACTOR * base.p99;
}

/** The first second from `from` that opens RECOVERY_SECONDS healthy seconds in a row; null if none. */
export function recoverySecond(g: GroupSeries, from: number, n: number, base: Baseline): number | null {
  let run = 0;
  for (let i = from; i < n; i++) {
    run = healthySecond(g, i, base) ? run + 1 : 0;
    if (run === RECOVERY_SECONDS) return i - RECOVERY_SECONDS + 1;
  }
  return null;
}

function countsOver(g: GroupSeries, from: number, to: number): { errors: Record<string, number>; noReply: Record<string, number> } {
  const errors: Record<string, number> = {};
  const noReply: Record<string, number> = {};
  for (const [kind, col] of Object.entries(g.errorsByKind)) {
    let n = 0;
    for (let i = from; i < to; i++) n += col[i] ?? 0;
    if (n === 0) continue;
    errors[kind] = n;
    if (NO_REPLY_KINDS.includes(kind)) noReply[kind] = n;
  }
  return { errors, noReply };
}

function worstSecondOf(g: GroupSeries, from: number, to: number): GroupOutcome["worstSecond"] {
  let worst: GroupOutcome["worstSecond"] = null;
  for (let i = from; i < to; i++) {
    const errors = g.errors[i] ?? 0;
    const ok = g.ok[i] ?? 0;
    if (!worst || errors > worst.errors || (errors === worst.errors && ok < worst.ok))
      worst = { second: i, errors, ok, p99: g.p99[i] ?? null };
  }
  return worst;
}

const sum = (r: Readonly<Record<string, number>>) => Object.values(r).reduce((a, b) => a + b, 0);

interface Span {
  startSec: number;
  endSec: number;
  startedAt: number;
}

function groupOutcome(
  g: GroupSeries,
  span: Span,
  ts: TimeSeries,
  disturbed: ReadonlySet<number>,
  histograms?: readonly string[],
): GroupOutcome {
  const n = ts.seconds;
  const candidates = Array.from({ length: Math.min(span.startSec, n) }, (_, i) => i).filter((i) => i >= 1 && !disturbed.has(i));
  const base = baselineOf(g, candidates, histograms);
  let verdict: Verdict;
  let at: number | null = null;
  if (span.startSec >= n) verdict = "outside the window";
  else if (base.throughput === null || base.throughput === 0 || base.p99 === null) verdict = "no baseline";
  else {
    at = recoverySecond(g, span.endSec, n, base);
    verdict = at === null ? "did not recover" : "recovered";
  }
  const from = Math.min(span.startSec, n);
  const to = at === null ? n : Math.min(n, at + RECOVERY_SECONDS);
  const { errors, noReply } = countsOver(g, from, to);
  return {
    group: g.group,
    loadModel: g.loadModel,
    baseline: { seconds: base.seconds.length, throughput: base.throughput, p99: base.p99 },
    window: { fromSecond: from, toSecond: to },
    errors,
    errorsTotal: sum(errors),
    noReply,
    noReplyTotal: sum(noReply),
    verdict,
    recoveryMs: at === null ? null : Math.max(0, ts.startedAt + at * 1000 - span.startedAt),
    recoveredAtSecond: at,
    worstSecond: worstSecondOf(g, from, to),
  };
}

/** Every event's outcome, in the order they happened; `histograms` are each group's per-second merged histograms. */
export function eventOutcomes(
  ts: TimeSeries,
  events: readonly EventRecord[],
  histograms: Readonly<Record<string, readonly string[]>> = {},
): EventOutcome[] {
  const n = ts.seconds;
  const disturbed = new Map<string, Set<number>>(ts.groups.map((g) => [g.group, new Set<number>()]));
  return [...events]
    .sort((a, b) => a.startedAt - b.startedAt)
    .map((ev) => {
      const startSec = clampInt((ev.startedAt - ts.startedAt) / 1000, 0, n);
      const span: Span = {
        startSec,
        endSec: clampInt((ev.endedAt - ts.startedAt) / 1000, startSec, Math.max(startSec, n - 1)),
        startedAt: ev.startedAt,
      };
      const groups = ts.groups.map((g) => {
        const mine = disturbed.get(g.group) ?? new Set<number>();
        const outcome = groupOutcome(g, span, ts, mine, histograms[g.group]);
        for (let i = outcome.window.fromSecond; i < outcome.window.toSecond; i++) mine.add(i);
        return outcome;
      });
      return {
        index: ev.index,
        action: ev.action,
        atSecond: (ev.startedAt - ts.startedAt) / 1000,
        durationMs: Math.max(0, ev.endedAt - ev.startedAt),
        ...(ev.target !== undefined ? { target: ev.target } : {}),
        detail: ev.detail,
        ...(ev.error !== undefined ? { error: ev.error } : {}),
        ...(ev.action === "scale" ? { capacityServingMs: ev.capacityServingMs ?? null } : {}),
        ...(ev.recoveredAt !== undefined
          ? { replacementMs: ev.recoveredAt === null ? null : Math.max(0, ev.recoveredAt - ev.startedAt) }
          : {}),
        ...(ev.outcome !== undefined ? { outcome: ev.outcome } : {}),
        groups,
      };
    });
}
