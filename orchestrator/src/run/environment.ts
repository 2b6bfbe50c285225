import { execa } from "execa";
import os from "node:os";
import { docker } from "../docker/client.js";
import type { EngineInfo } from "../measure/placement.js";
import { repoRoot } from "../models/catalog.js";

/** Where and with what a run was made, so two archived runs can be told apart. */
export interface Environment {
  host: string;
  kernel: string;
  platform: string;
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  docker: { server: string; api: string; storageDriver: string; cgroupVersion: string };
  gitCommit: string;
  gitDirty: boolean;
  images: Record<string, string>;
  /** The engine the cells ran on (engine/), with its nodes where it has several. */
  engine?: EngineInfo;
}

async function git(args: string[]): Promise<string> {
  const r = await execa("git", args, { cwd: repoRoot, reject: false });
  return r.exitCode === 0 ? r.stdout.trim() : "";
}

export async function captureEnvironment(images: string[]): Promise<Environment> {
  const [version, info] = await Promise.all([docker.version(), docker.info()]);
  const imageIds: Record<string, string> = {};
  for (const name of images) {
    imageIds[name] = await docker
      .getImage(name)
      .inspect()
      .then(
        (i) => i.Id,
        () => "missing",
      );
  }
  return {
    host: os.hostname(),
    kernel: os.release(),
    platform: `${os.platform()} ${os.arch()}`,
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    memoryBytes: os.totalmem(),
    node: process.version,
    docker: {
      server: version.Version,
      api: version.ApiVersion,
      storageDriver: String(info.Driver ?? ""),
      cgroupVersion: String(info.CgroupVersion ?? ""),
    },
    gitCommit: (await git(["rev-parse", "HEAD"])) || "unknown",
    gitDirty: (await git(["status", "--porcelain"])) !== "",
    images: imageIds,
  };
}
