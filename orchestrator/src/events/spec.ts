import { z } from "zod";
import { tryParseDuration } from "../scenario/duration.js";

/**
 * Scripted events: what a workload's `events:` list may ask the orchestrator to do to the model
 * while the load runs, each at an offset (`at`) inside the measured window. Parsed here, checked
 * against the window in the scenario schema and against each model's manifest in scenario/load.ts,
 * planned in events/plan.ts, carried out by run/events.ts.
 */

/** Signals an event may send (names without SIG). */
export const SIGNALS = ["KILL", "TERM", "INT", "QUIT", "ABRT", "SEGV", "HUP", "USR1", "USR2", "TTIN", "TTOU", "WINCH"] as const;
export const SignalSchema = z.enum(SIGNALS);
export type SignalName = z.infer<typeof SignalSchema>;

const DurationText = z.string({ invalid_type_error: 'a duration with a unit, like "10s" or "500ms"' }).refine(
  (s) => tryParseDuration(s) !== undefined,
  (s) => ({
    message: `not a duration: ${JSON.stringify(s)} (write e.g. "500ms", "10s", "1m")`,
  }),
);

/** Which replica, by its place in compose's numbering (0: the first). */
const ReplicaIndex = z.number().int().min(0);
/** In-process (workers, through the model's master) or orchestrator-level (replicas). */
export const ScaleTargetSchema = z.enum(["workers", "replicas"]);
export type ScaleTarget = z.infer<typeof ScaleTargetSchema>;

export const HANG_REQUEST_RE = /^\s*(fib|sleep)\s+(\d+)\s*$/;

const base = { at: DurationText };

export const KillWorkerSchema = z
  .object({
    ...base,
    action: z.literal("kill-worker"),
    /** Default KILL: a crash the worker cannot answer. */
    signal: SignalSchema.default("KILL"),
    replica: ReplicaIndex.default(0),
  })
  .strict();

export const KillContainerSchema = z.object({ ...base, action: z.literal("kill-container"), replica: ReplicaIndex.default(0) }).strict();

export const RemoveContainerSchema = z
  .object({ ...base, action: z.literal("remove-container"), replica: ReplicaIndex.default(0) })
  .strict();

export const RollingRestartSchema = z
  .object({
    ...base,
    action: z.literal("rolling-restart"),
    /** Default: workers when the topology is one container of a model with a master that can, else replicas. */
    what: ScaleTargetSchema.optional(),
  })
  .strict();

export const ScaleSchema = z
  .object({
    ...base,
    action: z.literal("scale"),
    /** Workers (or replicas) to add; negative removes. */
    by: z
      .number()
      .int()
      .refine((n) => n !== 0, "by must not be 0"),
    /** Default: workers when the topology is one container of a model that can grow its workers, else replicas. */
    what: ScaleTargetSchema.optional(),
  })
  .strict();

export const HangSchema = z
  .object({
    ...base,
    action: z.literal("hang"),
    /** "fib 35" or "sleep 30000" (http only); the caps are the topology's FIB_MAX / SLEEP_MAX_MS. */
    request: z.string().regex(HANG_REQUEST_RE, 'write "fib <n>" or "sleep <ms>", e.g. "fib 35"'),
    protocol: z.enum(["http", "tcp"]).default("http"),
    /** Through the front (default) or straight to the first replica, past the front. */
    via: z.enum(["front", "replica"]).default("front"),
  })
  .strict();

export const NoiseSchema = z
  .object({
    ...base,
    action: z.literal("noise"),
    /** CPU limit of the burner container (a busy loop), in cores. */
    cpus: z.number().positive(),
    /** How long it burns (cut at the end of the window). */
    duration: DurationText,
  })
  .strict();

export const EventSpecSchema = z.discriminatedUnion(
  "action",
  [KillWorkerSchema, KillContainerSchema, RemoveContainerSchema, RollingRestartSchema, ScaleSchema, HangSchema, NoiseSchema],
  {
    errorMap: (issue, ctx) =>
      issue.code === z.ZodIssueCode.invalid_union_discriminator
        ? { message: `action must be one of ${issue.options.map((o) => String(o)).join(", ")}` }
        : { message: ctx.defaultError },
  },
);
export type EventSpec = z.output<typeof EventSpecSchema>;

/** The offset of an event in the window, ms (already validated). */
export function eventAtMs(e: Pick<EventSpec, "at">): number {
  return tryParseDuration(e.at) ?? 0;
}

/** The parsed request of a hang event. */
export function hangRequest(text: string): { kind: "fib" | "sleep"; arg: number } {
  const m = HANG_REQUEST_RE.exec(text);
  return { kind: (m?.[1] ?? "fib") as "fib" | "sleep", arg: Number(m?.[2] ?? 0) };
}
