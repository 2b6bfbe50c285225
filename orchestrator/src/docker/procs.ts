import { access, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import {
  cellMemory,
  cgroupDirs,
  containerMemory,
  ownProcesses,
  parseProcCgroup,
  parseStatPpid,
  type CellMemory,
  type ContainerMemory,
  type SmapsReading,
} from "../measure/memory.js";
import { docker } from "./client.js";

/**
 * A container's processes as the host sees them, and their memory: the container's first process
 * (inspect's State.Pid) names its cgroup in /proc/<pid>/cgroup, whose cgroup.procs (and those of
 * any child cgroups) list every process in it, as host pids. Reading /proc of those pids needs the
 * orchestrator in the engine's pid namespace, as root: the lab's orchestrator runs on the host.
 */

const readText = (file: string) => readFile(file, "utf8").catch(() => null);

/** Pids in a cgroup directory and its children (a container may nest cgroups of its own). */
async function procsUnder(dir: string): Promise<number[] | null> {
  const own = await readText(path.join(dir, "cgroup.procs"));
  if (own === null) return null;
  const pids = own
    .split("\n")
    .filter((l) => /^\d+$/.test(l.trim()))
    .map(Number);
  const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const c of children.filter((d) => d.isDirectory())) pids.push(...((await procsUnder(path.join(dir, c.name))) ?? []));
  return pids;
}

/** Whether cgroup v2 is mounted at /sys/fs/cgroup itself (a v2-only host) rather than beside v1. */
const unifiedAtRoot = () =>
  access("/sys/fs/cgroup/cgroup.controllers").then(
    () => true,
    () => false,
  );

export interface ContainerProcs {
  /** Host pids of the container's own processes: its first process and every descendant. */
  pids: number[];
  /** Processes in its cgroup that are not its own (a healthcheck, a `docker exec`). */
  excluded: number;
  /** What the cgroup was charged at the listing, bytes; null when unread. */
  cgroupBytes: number | null;
}

/** A running container's host pids and its cgroup's charged memory; null when it is not running. */
export async function containerProcs(id: string): Promise<ContainerProcs | null> {
  const info = await docker
    .getContainer(id)
    .inspect()
    .catch(() => undefined);
  const pid = info?.State.Pid ?? 0;
  if (!info?.State.Running || pid <= 0) return null;
  const text = await readText(`/proc/${pid}/cgroup`);
  if (text === null) return { pids: [pid], excluded: 0, cgroupBytes: null };
  const dirs = cgroupDirs(parseProcCgroup(text), await unifiedAtRoot());
  let pids: number[] | null = null;
  let cgroupBytes: number | null = null;
  for (const d of dirs) {
    pids ??= await procsUnder(d.dir);
    if (cgroupBytes === null && d.memoryFile) {
      const v = await readText(path.join(d.dir, d.memoryFile));
      if (v !== null && /^\d+\s*$/.test(v)) cgroupBytes = Number(v.trim());
    }
  }
  const listed = pids && pids.length > 0 ? [...new Set(pids)] : [pid];
  const parents = new Map(
    await Promise.all(listed.map(async (p) => [p, parseStatPpid((await readText(`/proc/${p}/stat`)) ?? "")] as const)),
  );
  const own = ownProcesses(pid, parents);
  return { pids: own, excluded: listed.length - own.length, cgroupBytes };
}

/** Each pid's smaps_rollup; a process that exited since the listing reads as null, not an error. */
export async function readSmaps(pids: readonly number[]): Promise<SmapsReading[]> {
  return Promise.all(pids.map(async (pid) => ({ pid, text: await readText(`/proc/${pid}/smaps_rollup`) })));
}

/** One container's memory: PSS, RSS and the rest summed over its processes, beside its cgroup's figure; null when not running. */
export async function readContainerMemory(id: string, name: string): Promise<ContainerMemory | null> {
  const procs = await containerProcs(id);
  return procs ? containerMemory(name, await readSmaps(procs.pids), procs.cgroupBytes, procs.excluded) : null;
}

/** The memory of a set of containers (a cell's model replicas) read at one moment; those not running are left out. */
export async function readCellMemory(containers: readonly { id: string; name: string }[]): Promise<CellMemory> {
  const readAt = Date.now();
  const read = await Promise.all(containers.map((c) => readContainerMemory(c.id, c.name)));
  return cellMemory(
    read.filter((m): m is ContainerMemory => m !== null),
    readAt,
  );
}
