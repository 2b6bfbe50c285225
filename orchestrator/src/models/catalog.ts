import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { ManifestSchema, type Manifest } from "./manifest.js";

export const repoRoot = path.resolve(import.meta.dirname, "../../..");
export const servicesDir = path.join(repoRoot, "services");

/** Every manifest under services/, sorted by name. The one list of models is the folders. */
export async function loadCatalog(dir = servicesDir): Promise<Manifest[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const manifests: Manifest[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const file = path.join(dir, entry.name, "model.json");
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch {
      continue; // not a model folder (the shared package, the front)
    }
    const parsed = ManifestSchema.safeParse(JSON.parse(text));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
      throw new Error(`${path.relative(repoRoot, file)}: ${issues}`);
    }
    if (parsed.data.name !== entry.name) {
      throw new Error(`${path.relative(repoRoot, file)}: name "${parsed.data.name}" differs from its folder "${entry.name}"`);
    }
    manifests.push(parsed.data);
  }
  return manifests.sort((a, b) => a.name.localeCompare(b.name));
}

export function findModel(catalog: Manifest[], name: string): Manifest {
  const m = catalog.find((x) => x.name === name);
  if (!m) throw new Error(`unknown model "${name}"; known: ${catalog.map((x) => x.name).join(", ")}`);
  return m;
}
