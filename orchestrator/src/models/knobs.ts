import type { Manifest } from "./manifest.js";

/**
 * Knobs are a model's settings, passed as environment variables. The manifest is their one source
 * of truth: which knobs a model has and each one's default. A topology's `workers` and `threads`
 * are the WORKERS and THREADS knobs under friendlier names; its `env` names any other.
 */

/** Knobs of the service contract itself, which every model honours (docs/DESIGN.md). */
export const CONTRACT_KNOBS = { FIB_MAX: 35, SLEEP_MAX_MS: 10_000 } as const;

/** The knob-setting fields of a topology (a schema Topology fits). */
export interface KnobSettings {
  workers?: number | undefined;
  threads?: number | undefined;
  env?: Record<string, string | number | boolean> | undefined;
}

/** Every knob a topology sets, by its variable name, with where in the topology it was written. */
export function requestedKnobs(t: KnobSettings): { knob: string; field: string; value: string }[] {
  const out: { knob: string; field: string; value: string }[] = [];
  if (t.workers !== undefined) out.push({ knob: "WORKERS", field: "workers", value: String(t.workers) });
  if (t.threads !== undefined) out.push({ knob: "THREADS", field: "threads", value: String(t.threads) });
  for (const [k, v] of Object.entries(t.env ?? {})) out.push({ knob: k, field: `env.${k}`, value: String(v) });
  return out;
}

export function acceptsKnob(manifest: Pick<Manifest, "knobs">, knob: string): boolean {
  return knob in manifest.knobs || knob in CONTRACT_KNOBS;
}

/** "WORKERS, REUSEPORT" or "none", for error messages. */
export function knobList(manifest: Pick<Manifest, "knobs">): string {
  const names = Object.keys(manifest.knobs);
  return names.length ? names.join(", ") : "none";
}

/**
 * The value of every knob of the model in this topology: the topology's where it sets one, the
 * manifest's default otherwise. Knobs the model does not have are an error here; the scenario
 * loader has already rejected them with the scenario's path.
 */
export function resolveKnobs(manifest: Pick<Manifest, "name" | "knobs">, t: KnobSettings): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [k, spec] of Object.entries(manifest.knobs)) values[k] = String(spec.default);
  for (const r of requestedKnobs(t)) {
    if (!acceptsKnob(manifest, r.knob)) throw new Error(`model ${manifest.name} has no knob ${r.knob} (its knobs: ${knobList(manifest)})`);
    values[r.knob] = r.value;
  }
  return values;
}
