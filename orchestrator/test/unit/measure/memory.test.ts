import { describe, expect, it } from "vitest";
import {
  CellMemorySchema,
  cellMemory,
  cgroupDirs,
  containerMemory,
  ownProcesses,
  parseProcCgroup,
  parseSmapsRollup,
  parseStatPpid,
  smapsFields,
} from "../../../src/measure/memory.js";

// A py-prefork master's /proc/<pid>/smaps_rollup as read on the lab's host (kernel 6.x).
const MASTER = `00400000-7ffc8b881000 ---p 00000000 00:00 0                              [rollup]
Rss:               13952 kB
Pss:                7250 kB
Pss_Dirty:          2939 kB
Pss_Anon:           2939 kB
Pss_File:           4311 kB
Pss_Shmem:             0 kB
Shared_Clean:       4000 kB
Shared_Dirty:       6052 kB
Private_Clean:      2980 kB
Private_Dirty:       920 kB
Referenced:        13952 kB
Anonymous:          6972 kB
KSM:                   0 kB
LazyFree:              0 kB
AnonHugePages:         0 kB
Swap:                  0 kB
SwapPss:               0 kB
Locked:                0 kB
`;

/** A worker forked from it: the same shared pages, a little private memory of its own. */
function worker(pssKb: number, privateKb: number): string {
  return [
    "00400000-7ffc8b881000 ---p 00000000 00:00 0 [rollup]",
    `Rss:               ${10052 + privateKb} kB`,
    `Pss:               ${pssKb} kB`,
    "Shared_Clean:       4000 kB",
    "Shared_Dirty:       6052 kB",
    "Private_Clean:         0 kB",
    `Private_Dirty:     ${privateKb} kB`,
    "SwapPss:               8 kB",
    "",
  ].join("\n");
}

const KB = 1024;

describe("smaps_rollup", () => {
  it("reads every 'Name: N kB' line as bytes and skips the header", () => {
    const f = smapsFields(MASTER);
    expect(f.get("Rss")).toBe(13952 * KB);
    expect(f.get("Pss_Anon")).toBe(2939 * KB);
    expect(f.has("00400000-7ffc8b881000 ---p 00000000 00")).toBe(false);
  });

  it("gives PSS, RSS, private and shared bytes of one process", () => {
    expect(parseSmapsRollup(7, MASTER)).toEqual({
      pid: 7,
      pssBytes: 7250 * KB,
      rssBytes: 13952 * KB,
      privateBytes: (2980 + 920) * KB,
      sharedBytes: (4000 + 6052) * KB,
      swapPssBytes: 0,
    });
  });

  it("is null for a text without Pss (empty, or not a rollup)", () => {
    expect(parseSmapsRollup(1, "")).toBeNull();
    expect(parseSmapsRollup(1, "Name:\tpython3\nState:\tS (sleeping)\n")).toBeNull();
  });
});

describe("summing PSS over a topology", () => {
  const master = { pid: 7, text: MASTER };
  const w1 = { pid: 8, text: worker(3500, 400) };
  const w2 = { pid: 9, text: worker(3600, 500) };

  it("sums a container's processes: PSS below RSS, which counts the shared pages in each", () => {
    const c = containerMemory("m-1", [w2, master, w1], 30e6);
    expect(c.processes).toBe(3);
    expect(c.unreadable).toBe(0);
    expect(c.pssBytes).toBe((7250 + 3500 + 3600) * KB);
    expect(c.rssBytes).toBe((13952 + 10452 + 10552) * KB);
    expect(c.pssBytes).toBeLessThan(c.rssBytes);
    expect(c.sharedBytes).toBe(3 * 10052 * KB);
    expect(c.perProcess.map((p) => p.pid)).toEqual([7, 8, 9]);
    expect(c.cgroupBytes).toBe(30e6);
  });

  it("leaves out a process that vanished or could not be read, and counts it apart", () => {
    const c = containerMemory("m-1", [master, { pid: 10, text: null }, { pid: 11, text: "" }], null);
    expect(c.processes).toBe(1);
    expect(c.unreadable).toBe(2);
    expect(c.pssBytes).toBe(7250 * KB);
  });

  it("adds containers (replicas) into the cell's sums; the cgroup sum needs every container's", () => {
    const a = containerMemory("m-1", [master, w1], 20e6);
    const b = containerMemory("m-2", [{ pid: 20, text: MASTER }], 15e6);
    const cell = cellMemory([b, a], 123);
    expect(cell.processes).toBe(3);
    expect(cell.pssBytes).toBe((7250 + 3500 + 7250) * KB);
    expect(cell.cgroupBytes).toBe(35e6);
    expect(cell.perContainer.map((c) => c.name)).toEqual(["m-1", "m-2"]);
    expect(cellMemory([a, containerMemory("m-2", [], null)], 1).cgroupBytes).toBeNull();
    expect(CellMemorySchema.parse(JSON.parse(JSON.stringify(cell)))).toEqual(cell);
  });

  it("no container: zero processes, no cgroup figure", () => {
    const cell = cellMemory([], 1);
    expect(cell.processes).toBe(0);
    expect(cell.pssBytes).toBe(0);
    expect(cell.cgroupBytes).toBeNull();
  });
});

describe("finding a container's cgroup", () => {
  const V1 = [
    "9:name=systemd:/docker/abc",
    "8:pids:/docker/abc",
    "4:memory:/docker/abc",
    "2:cpu,cpuacct:/docker/abc",
    "0::/docker/abc",
    "",
  ].join("\n");

  it("parses /proc/<pid>/cgroup lines, v1 controllers and the v2 entry", () => {
    const e = parseProcCgroup(V1);
    expect(e).toHaveLength(5);
    expect(e[3]).toEqual({ controllers: ["cpu", "cpuacct"], path: "/docker/abc" });
    expect(e[4]).toEqual({ controllers: [], path: "/docker/abc" });
  });

  it("on a v1 (hybrid) host: the memory hierarchy first, then unified/, then pids", () => {
    expect(cgroupDirs(parseProcCgroup(V1), false)).toEqual([
      { dir: "/sys/fs/cgroup/memory/docker/abc", memoryFile: "memory.usage_in_bytes" },
      { dir: "/sys/fs/cgroup/unified/docker/abc", memoryFile: "memory.current" },
      { dir: "/sys/fs/cgroup/pids/docker/abc", memoryFile: null },
    ]);
  });

  it("on a v2 host: the unified hierarchy at the root", () => {
    const dirs = cgroupDirs(parseProcCgroup("0::/system.slice/docker-abc.scope\n"), true);
    expect(dirs).toEqual([{ dir: "/sys/fs/cgroup/system.slice/docker-abc.scope", memoryFile: "memory.current" }]);
  });
});

describe("the container's own processes", () => {
  it("reads the parent pid from /proc/<pid>/stat, whatever the command's name holds", () => {
    expect(parseStatPpid("31150 (gunicorn) S 30981 30981 30981 0 -1 4194560 2391 0 0 0")).toBe(30981);
    expect(parseStatPpid("42 (a (b) c) R 7 42 42 0")).toBe(7);
    expect(parseStatPpid("")).toBeNull();
  });

  it("keeps the first process and its descendants, leaves out what was exec'd beside them", () => {
    // 30981 is the container's init (gunicorn's arbiter), 31150/31151 its workers, 31200 a worker's
    // child; 1743 a healthcheck whose parent is the runtime's shim (10500, outside the cgroup).
    const parents = new Map<number, number | null>([
      [30981, 10500],
      [31150, 30981],
      [31151, 30981],
      [31200, 31150],
      [1743, 10500],
    ]);
    expect(ownProcesses(30981, parents)).toEqual([30981, 31150, 31151, 31200]);
  });

  it("keeps a process whose parent could not be read (it vanished: counted unreadable later)", () => {
    expect(
      ownProcesses(
        1,
        new Map([
          [1, 0],
          [5, null],
          [6, 99],
        ]),
      ),
    ).toEqual([1, 5]);
  });

  it("counts the excluded processes beside the sums", () => {
    const c = containerMemory("m-1", [{ pid: 7, text: MASTER }], null, 1);
    expect(c.excluded).toBe(1);
    expect(c.processes).toBe(1);
    expect(cellMemory([c, containerMemory("m-2", [], null, 2)], 1).excluded).toBe(3);
  });
});
