import { UserError } from "../errors.js";
import { composeEngine } from "./compose.js";
import { ENGINES, type Engine, type EngineName } from "./engine.js";
import { SwarmEngine } from "./swarm.js";

export type { Engine, EngineName, Endpoints, Placement, WindowSampler, EngineFleetOutcome } from "./engine.js";
export { ENGINES } from "./engine.js";

/** The engine `lab run --engine <name>` asks for. */
export function engineFor(name: string): Engine {
  if (!(ENGINES as readonly string[]).includes(name)) throw new UserError(`unknown engine '${name}': one of ${ENGINES.join(", ")}`);
  return (name as EngineName) === "swarm" ? new SwarmEngine() : composeEngine;
}
