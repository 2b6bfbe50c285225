import { z } from "zod";

/**
 * Memory that means something for a topology: the proportional set size (PSS) of every process
 * of the model's containers, read from /proc/<pid>/smaps_rollup on the host. A page shared by n
 * processes counts 1/n in each one's PSS, so the sum over a pre-fork master and its workers counts
 * their copy-on-write pages once, where RSS counts them once per process. The cgroup figure is
 * beside it: what the kernel charged to each container (page cache and kernel memory included).
 */

const Bytes = z.number().nonnegative();

/** One process, from its smaps_rollup (kB in the file, bytes here). */
export const ProcessMemorySchema = z.object({
  pid: z.number().int().positive(),
  pssBytes: Bytes,
  rssBytes: Bytes,
  /** Private_Clean + Private_Dirty: pages only this process maps. */
  privateBytes: Bytes,
  /** Shared_Clean + Shared_Dirty: pages another process maps too. */
  sharedBytes: Bytes,
  swapPssBytes: Bytes,
});
export type ProcessMemory = z.infer<typeof ProcessMemorySchema>;

const Sums = {
  /** Processes whose smaps_rollup was read. */
  processes: z.number().int().nonnegative(),
  /** Processes listed in the cgroup that vanished or could not be read: left out of the sums. */
  unreadable: z.number().int().nonnegative(),
  /**
   * Processes in the cgroup that are not the model's (not the container's first process or one of
   * its descendants): a healthcheck or a `docker exec` running at the reading. Left out of the sums.
   */
  excluded: z.number().int().nonnegative().default(0),
  pssBytes: Bytes,
  rssBytes: Bytes,
  privateBytes: Bytes,
  sharedBytes: Bytes,
  /** The cgroup's charged memory at the reading (memory.current, v1 memory.usage_in_bytes); null when unread. */
  cgroupBytes: Bytes.nullable(),
};

export const ContainerMemorySchema = z.object({
  name: z.string(),
  ...Sums,
  perProcess: z.array(ProcessMemorySchema),
});
export type ContainerMemory = z.infer<typeof ContainerMemorySchema>;

/** The model containers of one cell, read once near the end of the measured window. */
export const CellMemorySchema = z.object({
  /** When it was read, epoch ms. */
  readAt: z.number(),
  ...Sums,
  perContainer: z.array(ContainerMemorySchema),
});
export type CellMemory = z.infer<typeof CellMemorySchema>;

const KIB = 1024;

/** The fields of a smaps_rollup in bytes, by name ("Pss" → bytes); lines that are not "Name: N kB" are skipped. */
export function smapsFields(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\w+):\s+(\d+)\s+kB\s*$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * KIB);
  }
  return out;
}

/** One process's memory from its smaps_rollup text; null when the text has no Pss (not a rollup, or a kernel thread's empty one). */
export function parseSmapsRollup(pid: number, text: string): ProcessMemory | null {
  const f = smapsFields(text);
  const pss = f.get("Pss");
  if (pss === undefined) return null;
  const get = (k: string) => f.get(k) ?? 0;
  return {
    pid,
    pssBytes: pss,
    rssBytes: get("Rss"),
    privateBytes: get("Private_Clean") + get("Private_Dirty"),
    sharedBytes: get("Shared_Clean") + get("Shared_Dirty"),
    swapPssBytes: get("SwapPss"),
  };
}

/** A process's smaps_rollup as read: null when it vanished or could not be read. */
export interface SmapsReading {
  pid: number;
  text: string | null;
}

type Totals = Omit<z.infer<z.ZodObject<typeof Sums>>, "cgroupBytes">;

function totals(parts: readonly Totals[]): Totals {
  const sum = (f: (p: Totals) => number) => parts.reduce((a, p) => a + f(p), 0);
  return {
    processes: sum((p) => p.processes),
    unreadable: sum((p) => p.unreadable),
    excluded: sum((p) => p.excluded),
    pssBytes: sum((p) => p.pssBytes),
    rssBytes: sum((p) => p.rssBytes),
    privateBytes: sum((p) => p.privateBytes),
    sharedBytes: sum((p) => p.sharedBytes),
  };
}

/**
 * A container's processes summed; those that vanished between listing and reading are counted
 * apart, not summed, and so are the `excluded` processes that are not the model's.
 */
export function containerMemory(
  name: string,
  readings: readonly SmapsReading[],
  cgroupBytes: number | null,
  excluded = 0,
): ContainerMemory {
  const perProcess = readings.flatMap((r) => {
    const m = r.text === null ? null : parseSmapsRollup(r.pid, r.text);
    return m ? [m] : [];
  });
  const each = perProcess.map((p) => ({ ...p, processes: 1, unreadable: 0, excluded: 0 }));
  return {
    name,
    ...totals(each),
    unreadable: readings.length - perProcess.length,
    excluded,
    cgroupBytes,
    perProcess: [...perProcess].sort((a, b) => a.pid - b.pid),
  };
}

/** The cell's figure: every model container's sums added; the cgroup sum only when every container's was read. */
export function cellMemory(containers: readonly ContainerMemory[], readAt: number): CellMemory {
  const cgroups = containers.map((c) => c.cgroupBytes);
  return {
    readAt,
    ...totals(containers),
    cgroupBytes: cgroups.length > 0 && cgroups.every((x) => x !== null) ? cgroups.reduce((a: number, b) => a + (b ?? 0), 0) : null,
    perContainer: [...containers].sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/** The parent pid from /proc/<pid>/stat ("pid (comm) state ppid ..."; comm may hold spaces and parentheses); null when unparsable. */
export function parseStatPpid(text: string): number | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  const ppid = Number(text.slice(close + 2).split(" ")[1]);
  return Number.isInteger(ppid) && ppid >= 0 ? ppid : null;
}

/**
 * The container's own processes among those in its cgroup: its first process and every
 * descendant. A process exec'd into the container (a healthcheck, `docker exec`) is a child of
 * the runtime's shim outside it, so it is left out. A pid whose parent is unknown (it vanished
 * while being listed) is kept, to be counted as unreadable.
 */
export function ownProcesses(init: number, parents: ReadonlyMap<number, number | null>): number[] {
  const own = (pid: number): boolean => {
    const seen = new Set<number>();
    for (let p: number | null | undefined = pid; p !== undefined; p = parents.get(p)) {
      if (p === init || p === null) return true;
      if (seen.has(p)) return false;
      seen.add(p);
    }
    return false;
  };
  return [...parents.keys()].filter(own);
}

/** One line of /proc/<pid>/cgroup: "<id>:<controllers>:<path>" (v2: "0::<path>"). */
export interface CgroupEntry {
  controllers: string[];
  path: string;
}

export function parseProcCgroup(text: string): CgroupEntry[] {
  return text.split("\n").flatMap((line) => {
    const m = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    return m ? [{ controllers: m[1] === "" ? [] : m[1]!.split(","), path: m[2]! }] : [];
  });
}

/**
 * Where a process's cgroup is under /sys/fs/cgroup, most useful first, each with the file that
 * holds its charged memory: the v1 memory controller's own hierarchy, the v2 unified one (mounted
 * at the root, or under unified/ on a hybrid host), then v1 pids (which has no memory figure).
 */
export function cgroupDirs(entries: readonly CgroupEntry[], unifiedAtRoot: boolean): { dir: string; memoryFile: string | null }[] {
  const v1 = (c: string) => entries.find((e) => e.controllers.includes(c))?.path;
  const v2 = entries.find((e) => e.controllers.length === 0)?.path;
  const out: { dir: string; memoryFile: string | null }[] = [];
  const memory = v1("memory");
  if (memory !== undefined) out.push({ dir: `/sys/fs/cgroup/memory${memory}`, memoryFile: "memory.usage_in_bytes" });
  if (v2 !== undefined) out.push({ dir: `/sys/fs/cgroup${unifiedAtRoot ? "" : "/unified"}${v2}`, memoryFile: "memory.current" });
  const pids = v1("pids");
  if (pids !== undefined) out.push({ dir: `/sys/fs/cgroup/pids${pids}`, memoryFile: null });
  return out.map((d) => ({ ...d, dir: d.dir.replace(/\/+$/, "") }));
}
