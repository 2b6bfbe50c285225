import { execIn } from "./containers.js";

/** A process inside a container and the listening sockets (their inodes) it holds. */
export interface Holder {
  pid: number;
  ppid: number;
  inodes: string[];
}

/** The listening sockets on one port in a container's network namespace, and who holds each. */
export interface Listeners {
  /** Inodes of the sockets in LISTEN state on the port (IPv4 and IPv6). */
  inodes: string[];
  /** Every process holding at least one of them. */
  holders: Holder[];
}

// Read as the container's own user: it owns the server processes, so their fd tables are
// readable without any capability. One "fd <pid> <ppid> socket:[inode]" line per socket held,
// then the kernel's LISTEN rows (state 0A) of /proc/net/tcp and tcp6.
const SCRIPT = [
  "for p in /proc/[0-9]*; do",
  '  pid=${p#/proc/}; ppid=$(sed -n "s/^PPid:[[:space:]]*//p" $p/status 2>/dev/null)',
  '  for f in $p/fd/*; do l=$(readlink $f 2>/dev/null) && case $l in socket:*) echo "fd $pid $ppid $l";; esac; done',
  "done",
  "cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep ' 0A ' || true",
].join("\n");

/** Pure: the script's output, reduced to one port's listeners and their holders. */
export function parseListeners(text: string, port: number): Listeners {
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  const held = new Map<number, Holder>();
  const lines = text.split("\n").map((l) => l.trim().split(/\s+/));
  for (const f of lines) {
    // sl local rem st tx:rx tr:when retrnsmt uid timeout inode
    if (f[0] !== "fd" && f[3] === "0A" && f[1]?.endsWith(`:${portHex}`) && f[9]) inodes.add(f[9]);
  }
  for (const f of lines) {
    const inode = f[0] === "fd" ? /^socket:\[(\d+)\]$/.exec(f[3] ?? "")?.[1] : undefined;
    if (inode === undefined || !inodes.has(inode)) continue;
    const pid = Number(f[1]);
    const h = held.get(pid) ?? { pid, ppid: Number(f[2]), inodes: [] };
    h.inodes.push(inode);
    held.set(pid, h);
  }
  return { inodes: [...inodes].sort(), holders: [...held.values()].sort((a, b) => a.pid - b.pid) };
}

/** Who listens on `port` inside the container, seen from its /proc. */
export async function listenersIn(containerId: string, port: number): Promise<Listeners> {
  const r = await execIn(containerId, ["sh", "-c", SCRIPT]);
  if (r.exitCode !== 0) throw new Error(`listener probe failed in ${containerId}: ${r.stderr}`);
  return parseListeners(r.stdout, port);
}
