import type Docker from "dockerode";

/**
 * The confinement every lab container runs under: the compose file's `x-hardening` anchor says the
 * same for models and the front (YAML cannot import this; a unit test holds the two equal).
 * Read-only root, a small tmpfs for /tmp, no capabilities, no privilege escalation, uid 10001.
 */
export const HARDENING = {
  user: "10001:10001",
  readOnly: true,
  tmpfs: { "/tmp": "size=64m" },
  capDrop: ["ALL"],
  securityOpt: ["no-new-privileges:true"],
} as const;

/** The same, as dockerode's HostConfig fields. */
export function hardenedHostConfig(): Pick<Docker.HostConfig, "ReadonlyRootfs" | "Tmpfs" | "CapDrop" | "SecurityOpt"> {
  return {
    ReadonlyRootfs: HARDENING.readOnly,
    Tmpfs: { ...HARDENING.tmpfs },
    CapDrop: [...HARDENING.capDrop],
    SecurityOpt: [...HARDENING.securityOpt],
  };
}
