import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import YAML from "yaml";
import { writeFileAtomic } from "../archive/atomic.js";
import { UserError } from "../errors.js";
import { isRelativeLoad } from "../scenario/schema.js";
import { repoRoot } from "../models/catalog.js";
import { planScenario } from "../run/runner.js";
import { cellObjects, DEFAULT_NAMESPACE, DEFAULT_RESULTS_CLAIM, sharedObjects, type K8sExportOptions, type K8sObject } from "./k8s.js";

/** `lab export k8s`: one YAML file per cell (multi-document), plus the objects all cells share. */

export const K6_SCRIPT_FILE = path.join(repoRoot, "loadtests/k6/fib.js");
export const SHARED_FILE = "namespace.yaml";
export const INDEX_FILE = "export.json";

export interface ExportRequest {
  scenarioFile: string;
  outDir: string;
  /** Only this cell (its id as `lab plan` prints it). */
  cell?: string | undefined;
  registry?: string | undefined;
  namespace?: string | undefined;
  resultsClaim?: string | undefined;
  startAt?: number | undefined;
  seed?: number | undefined;
  capacity?: number | undefined;
}

export interface ExportOutcome {
  dir: string;
  /** Written files, relative to dir. */
  files: string[];
  seed: number;
  /** What the reader must know: what was left out. */
  notes: string[];
}

/** Objects as one multi-document YAML text, under a comment. */
export function toYaml(objects: K8sObject[], comment: string): string {
  const docs = objects.map((o) => YAML.stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }));
  return `${comment
    .split("\n")
    .map((l) => `# ${l}`)
    .join("\n")}\n${docs.map((d) => `---\n${d}`).join("")}`;
}

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function checkName(value: string, flag: string): void {
  if (!NAME_RE.test(value)) throw new UserError(`${flag} "${value}": a Kubernetes name (lower case letters, digits and '-', at most 63)`);
}

export async function exportK8s(req: ExportRequest): Promise<ExportOutcome> {
  const { catalog, scenario, text, expansion } = await planScenario(req.scenarioFile, req.seed);
  const cells = req.cell === undefined ? expansion.cells : expansion.cells.filter((c) => c.id === req.cell);
  if (cells.length === 0) {
    throw new UserError(
      `no cell "${req.cell}" in scenario ${scenario.name} (its ${expansion.cells.length} cells: lab plan ${req.scenarioFile})`,
    );
  }
  const opts: K8sExportOptions = {
    namespace: req.namespace ?? DEFAULT_NAMESPACE,
    registry: req.registry,
    resultsClaim: req.resultsClaim ?? DEFAULT_RESULTS_CLAIM,
    startAt: req.startAt,
    seed: expansion.seed,
    capacity: req.capacity,
  };
  const relative = scenario.workloads.flatMap((w) => w.groups.filter((g) => isRelativeLoad(g.load)));
  if (relative.length > 0 && req.capacity === undefined) {
    throw new UserError(
      `scenario ${scenario.name} writes rates as shares of a probed capacity ("${relative.map((g) => g.name).join('", "')}"): give --capacity <req/s>, measured on the cluster with a closed load (docs/KUBERNETES.md)`,
    );
  }
  checkName(opts.namespace, "--namespace");
  checkName(opts.resultsClaim, "--results-claim");
  const k6Script = await readFile(K6_SCRIPT_FILE, "utf8");
  await mkdir(req.outDir, { recursive: true });
  const files: string[] = [SHARED_FILE];
  await writeFileAtomic(
    path.join(req.outDir, SHARED_FILE),
    toYaml(
      sharedObjects(opts),
      `fiblab ${scenario.name}: applied once, before any cell (the namespace, the results claim and a pod to read it)`,
    ),
  );
  for (const cell of cells) {
    const file = `${cell.id}.yaml`;
    const events = cell.workload.events.length;
    const comment = [
      `fiblab cell ${cell.id} (scenario ${scenario.name}, order ${cell.order + 1} of ${expansion.cells.length}, seed ${expansion.seed})`,
      ...(events ? [`not exported: the workload's ${events} scripted event(s); lab run drives them through Docker`] : []),
      "see docs/KUBERNETES.md",
    ].join("\n");
    await writeFileAtomic(path.join(req.outDir, file), toYaml(cellObjects(cell, scenario, catalog, opts, k6Script), comment));
    files.push(file);
  }
  const index = {
    scenario: scenario.name,
    seed: expansion.seed,
    namespace: opts.namespace,
    resultsClaim: opts.resultsClaim,
    cells: cells.map((c) => ({ id: c.id, order: c.order, file: `${c.id}.yaml` })),
    // The file as given, for the archive's scenario.yaml (not a .yaml here: every .yaml is a manifest).
    scenarioYaml: text,
  };
  await writeFileAtomic(path.join(req.outDir, INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  files.push(INDEX_FILE);
  const withEvents = cells.filter((c) => c.workload.events.length > 0).length;
  const notes = withEvents ? [`${withEvents} cell(s) have scripted events, which are not exported (docs/KUBERNETES.md)`] : [];
  return { dir: req.outDir, files, seed: expansion.seed, notes };
}
