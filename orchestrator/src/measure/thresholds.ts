/**
 * Every threshold that decides whether a figure is flagged, in one place: the report's method
 * notes print them from here, so what the reader is told is what the code did.
 */

/** Below this share of the planned sends, an open model did not deliver its load. */
export const DELIVERY_THRESHOLD = 0.99;

/** Client windows misaligned by more than this share of the window get a note. */
export const SKEW_NOTE_SHARE = 0.02;

/**
 * A client that used more than this share of its CPU limit (cores used / limit) was close enough
 * to its ceiling that it, not the server, may have set the pace: the group is client-bound.
 */
export const CLIENT_CPU_SHARE = 0.85;

/** A client throttled in more than this share of its CFS periods: the group is client-bound. */
export const CLIENT_THROTTLED_SHARE = 0.05;

/**
 * Cores (on average over a cell's window) used on the host outside the run's own containers and
 * the orchestrator; above this the cell shared the machine and is flagged machine busy.
 */
export const MACHINE_BUSY_CORES = 0.1;

/**
 * A row whose throughput varies across repeats by more than this coefficient of variation is
 * flagged noisy: at saturation a shape's throughput is its answer, and a finding resting on a
 * figure that moves this much between repeats says so.
 */
export const NOISY_CV = 0.05;
