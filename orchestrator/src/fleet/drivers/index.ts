import type { Tool } from "../../scenario/schema.js";
import type { LoadDriver } from "../driver.js";
import { k6Driver } from "./k6.js";
import { nodeClientDriver } from "./node-client.js";

const DRIVERS: Record<Tool, LoadDriver> = { k6: k6Driver, autocannon: nodeClientDriver, tcp: nodeClientDriver };

export function driverFor(tool: Tool): LoadDriver {
  return DRIVERS[tool];
}
