import { UserError } from "../errors.js";
import { composeEngine } from "./compose.js";
import { ENGINES, type Engine, type EngineName } from "./engine.js";
import { SwarmEngine } from "./swarm.js";

export type { Engine, EngineName, Endpoints, Placement, WindowSampler, EngineFleetOutcome } from "./engine.js";
export { ENGINES } from "./engine.js";

/** A user's engine name, checked: one line naming the choices otherwise. */
export function engineName(name: string): EngineName {
  if (!(ENGINES as readonly string[]).includes(name)) throw new UserError(`unknown engine '${name}': one of ${ENGINES.join(", ")}`);
  return name as EngineName;
}

/**
 * The engine `lab run --engine <name>` asks for. swarmPrefix names the swarm `npm run swarm:up`
 * made (default: FIBLAB_SWARM_PREFIX, as for the scripts, else fiblab-swarm).
 */
export function engineFor(name: string, opts: { swarmPrefix?: string } = {}): Engine {
  const prefix = opts.swarmPrefix ?? process.env.FIBLAB_SWARM_PREFIX;
  return engineName(name) === "swarm" ? new SwarmEngine(prefix || undefined) : composeEngine;
}
