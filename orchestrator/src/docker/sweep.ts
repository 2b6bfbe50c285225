import { docker, type Docker } from "./client.js";
import { LABEL, labelFilter } from "./labels.js";

/**
 * Remove every container and network carrying a label (key=value, or key alone). This is the
 * safety net behind compose down: whatever a run created carries its run label, so an
 * interrupted run can always be swept up, by itself or by `lab clean`. `engine`: this machine's
 * unless given (a swarm node's). Returns what it found.
 */
export async function sweepByLabel(label: string, engine: Docker = docker): Promise<{ containers: number; networks: number }> {
  const filters = { label: [label] };
  const containers = await engine.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      engine
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = await engine.listNetworks({ filters });
  await Promise.all(
    networks.map((n) =>
      engine
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  return { containers: containers.length, networks: networks.length };
}

export function projectLabel(project: string): string {
  return labelFilter(LABEL.composeProject, project);
}

export function runLabel(runId?: string): string {
  return labelFilter(LABEL.run, runId);
}
