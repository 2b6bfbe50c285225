#!/usr/bin/env node
import { Command } from "commander";
import { loadCatalog } from "./models/catalog.js";
import { formatModelTable } from "./models/table.js";

const program = new Command()
  .name("lab")
  .description("fiblab: bring up a serving model behind the nginx front, load it, measure, archive.")
  .showHelpAfterError();

program
  .command("models")
  .description("list the models (from services/*/model.json)")
  .option("--json", "print the manifests as JSON")
  .action(async (opts: { json?: boolean }) => {
    const catalog = await loadCatalog();
    console.log(opts.json ? JSON.stringify(catalog, null, 2) : formatModelTable(catalog));
  });

await program.parseAsync();
