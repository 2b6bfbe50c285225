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
  description: z.string(),
});

export type Manifest = z.infer<typeof ManifestSchema>;
export type Protocol = Manifest["protocols"][number];
