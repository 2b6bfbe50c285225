/**
 * Draining a replica before it stops, as an orchestrator does (endpoint removed, in-flight requests
 * finished, then SIGTERM): what the front says it serves, and what connections a replica still has.
 * Pure; run/events.ts reads the front's file and the replica's /proc/<pid>/net/tcp{,6}.
 */

/** The model's ports a client reaches: HTTP and the raw TCP protocol. */
export const SERVING_PORTS = [8000, 25000] as const;

/** TCP_ESTABLISHED in /proc/net/tcp's `st` column. */
const ESTABLISHED = "01";

/** The addresses in the front's live file (written once nginx runs a configuration): blank-separated. */
export function liveAddresses(text: string): string[] {
  return text.split(/\s+/).filter((a) => a !== "");
}

/** Whether a remote address (hex, as /proc/net/tcp{,6} writes it) is loopback: a health check, not a client. */
function isLoopback(hex: string): boolean {
  if (hex.length === 8) return hex.endsWith("7F");
  // ::1, or ::ffff:127.x.y.z (an IPv4 peer on a v6 socket)
  return hex === "00000000000000000000000001000000" || (hex.startsWith("0000000000000000FFFF0000") && hex.endsWith("7F"));
}

/**
 * Established connections from outside the container to a serving port, counted from the text of
 * /proc/<pid>/net/tcp and tcp6 (one network namespace: the replica's).
 */
export function servingConnections(procNetTcp: string, ports: readonly number[] = SERVING_PORTS): number {
  let n = 0;
  for (const line of procNetTcp.split("\n")) {
    const [, local, remote, st] = line.trim().split(/\s+/);
    if (!local || !remote || st !== ESTABLISHED) continue;
    const [, port] = local.split(":");
    const [remoteAddress] = remote.split(":");
    if (port === undefined || remoteAddress === undefined) continue;
    if (ports.includes(parseInt(port, 16)) && !isLoopback(remoteAddress)) n++;
  }
  return n;
}
