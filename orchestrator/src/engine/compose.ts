import os from "node:os";
import { docker } from "../docker/client.js";
import { compose, down, up, type Deployment } from "../docker/compose.js";
import { roleOf } from "../docker/labels.js";
import { ContainerSampler } from "../docker/sampler.js";
import { projectLabel, sweepByLabel } from "../docker/sweep.js";
import { launchFleet } from "../fleet/launch.js";
import { clientPlacements, type Engine, type Placement } from "./engine.js";

/** Today's engine: one compose project per cell and the fleet beside it, all on this machine. */
export const composeEngine: Engine = {
  name: "compose",

  unsupported: () => [],

  describe: async () => ({ name: "compose", nodes: [] }),

  async endpoints(d) {
    return { http: d.httpPort, tcp: d.tcpPort };
  },

  deploy: (d) => up(d),

  async placements(d) {
    const list = await docker.listContainers({ filters: { label: [projectLabel(d.project)] } });
    return list.flatMap((c): Placement[] => {
      const role = roleOf(c.Labels);
      return role ? [{ role, name: (c.Names[0] ?? c.Id).replace(/^\//, ""), node: os.hostname() }] : [];
    });
  },

  dropped: () => [],

  async execInModel(d, cmd, opts) {
    const r = await compose(d, ["exec", "-T", "--index", "1", "-w", opts.workdir, d.model, ...cmd], { timeoutMs: opts.timeoutMs });
    return r.stdout;
  },

  network: (d: Deployment) => `${d.project}_lab`,

  async runFleet(spec, hooks) {
    const outcome = await launchFleet(spec, hooks);
    return { ...outcome, placements: clientPlacements(outcome) };
  },

  sampler: (label) => ContainerSampler.forLabel(label),

  teardown: (d) => down(d),

  async sweep(label) {
    await sweepByLabel(label);
  },
};
