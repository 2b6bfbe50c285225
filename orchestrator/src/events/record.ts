import { z } from "zod";

/**
 * What the orchestrator did to a running cell, and when: the record the events executor writes
 * (run/events.ts) and the time-series analysis reads (measure/recovery.ts). Times are epoch ms.
 */
export const EVENT_ACTIONS = ["kill-worker", "kill-container", "remove-container", "rolling-restart", "scale", "hang", "noise"] as const;
export const EventActionSchema = z.enum(EVENT_ACTIONS);
export type EventAction = z.infer<typeof EventActionSchema>;

export const EventRecordSchema = z.object({
  /** Position in the workload's `events` list. */
  index: z.number().int().nonnegative(),
  action: EventActionSchema,
  /** When the scenario asked for it (measurement start + at). */
  plannedAt: z.number(),
  /** When the orchestrator began carrying it out. */
  startedAt: z.number(),
  /** When the action itself was over (the kill sent, the last replica replaced, the noise stopped). */
  endedAt: z.number(),
  /** What it acted on: a container name, "pid 123 in <container>", ... */
  target: z.string().optional(),
  /** One line for people: what was done and how. */
  detail: z.string(),
  /** scale: from the command until the new capacity served a request (ms); null if it never did. */
  capacityServingMs: z.number().nullable().optional(),
  /**
   * kill-worker, kill-container: when the replacement was there (a new worker process of the
   * master, the container running again under its restart policy); null if it never was.
   */
  recoveredAt: z.number().nullable().optional(),
  /** kill-worker: the X-Worker prefix (hostname/pid) of the process killed; hang: of the reply. */
  worker: z.string().optional(),
  /** kill-worker: the X-Worker prefix of the worker that took its place. */
  replacement: z.string().optional(),
  /** kill-container: the container's restart count once it was back. */
  restartCount: z.number().int().optional(),
  /** hang: "answered", "status <code>" (cut by the server or the front) or "cut" (no reply). */
  outcome: z.string().optional(),
  /** Set when the action could not be carried out (the rest of the run goes on). */
  error: z.string().optional(),
});
export type EventRecord = z.infer<typeof EventRecordSchema>;
