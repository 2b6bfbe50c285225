import { z } from "zod";

/** services/<model>/model.json: what the orchestrator knows about a model. */
export const KnobSchema = z.object({
  default: z.union([z.number(), z.string(), z.boolean()]),
  description: z.string(),
});

const Signal = z.enum(["HUP", "TTIN", "TTOU", "USR1", "USR2", "QUIT", "WINCH"]);

/**
 * What a model's own processes can do for the scripted events (docs/SCENARIOS.md, events). The
 * orchestrator-level events need nothing from the model and every model takes them: kill-container,
 * remove-container, noise, hang (the request is sent either way), and rolling-restart and scale of
 * replicas. What is declared here is what happens inside one container.
 */
export const ManifestEventsSchema = z
  .object({
    /**
     * Where kill-worker finds a worker: "children" (the processes whose parent is the container's
     * main process, a master that never serves), or "main" (the main process serves: killing it
     * kills the container, and the restart policy answers). Absent: kill-worker is not possible
     * (the model's children are not workers a kill can mean, as py-fork's per-connection children).
     */
    workerProcesses: z.enum(["children", "main"]).optional(),
    /**
     * A regular expression on the command line of children that are helpers, not workers (uvicorn:
     * multiprocessing's resource tracker): kill-worker and the worker counts leave them out.
     */
    helperProcesses: z.string().optional(),
    /** The master replaces its workers on this signal (to the main process), gracefully. */
    rollingRestart: z.object({ signal: Signal, how: z.string() }).strict().optional(),
    /** The master grows and shrinks its workers by one per signal. */
    scaleWorkers: z.object({ up: Signal, down: Signal }).strict().optional(),
    /** The master kills and replaces a worker stuck in one request longer than this knob (seconds; 0 = off). */
    hangTimeout: z
      .object({ knob: z.string().regex(/^[A-Z][A-Z0-9_]*$/) })
      .strict()
      .optional(),
    /**
     * The in-process events (children workers, rollingRestart, scaleWorkers) need a master, which
     * exists only when this knob is at least this value (uvicorn: WORKERS >= 2).
     */
    masterWhen: z.object({ knob: z.string(), atLeast: z.number().int() }).strict().optional(),
  })
  .strict();
export type ManifestEvents = z.infer<typeof ManifestEventsSchema>;

export const ManifestSchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/),
  kind: z.enum(["model", "calibration"]).default("model"),
  runtime: z.string(),
  strategy: z.string(),
  protocols: z.array(z.enum(["tcp", "http"])).nonempty(),
  /** Does one container hold an in-process master (arbiter, cluster primary) over its workers? */
  master: z.boolean(),
  knobs: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), KnobSchema).default({}),
  front: z.object({ upstreamKeepalive: z.boolean().default(true) }).default({}),
  /**
   * Where the model's own server (not the front, which shields it) departs from the contract,
   * by the name of the bad-input or conformance case: what it answers instead, and why. Framework
   * parsers are measured as they ship; the deviation is documented here and the suites hold the
   * model to exactly this answer, so a change either way shows.
   */
  knownDeviations: z
    .record(
      z.string(),
      z.object({
        /** Answers accepted besides the contract's: a status, "close", "wait" (no reply, still open), "partial" (pipelining: answers only some). */
        accept: z.array(z.union([z.number().int(), z.enum(["close", "wait", "partial"])])).nonempty(),
        why: z.string(),
      }),
    )
    .default({}),
  /** Which scripted events the model's own processes support, and how. */
  events: ManifestEventsSchema.default({}),
  description: z.string(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type Protocol = Manifest["protocols"][number];
