import { z } from "zod";

/** services/<model>/model.json: what the orchestrator knows about a model. */
export const KnobSchema = z.object({
  default: z.union([z.number(), z.string(), z.boolean()]),
  description: z.string(),
});

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
  description: z.string(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type Protocol = Manifest["protocols"][number];
