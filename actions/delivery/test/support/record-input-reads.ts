// Preloaded into a bundled action with `node --import` (dist.test.ts): records the names of the
// INPUT_* variables the action reads, and writes them as JSON to $RECORD_INPUT_READS on exit.
import { writeFileSync } from "node:fs";

const file = process.env.RECORD_INPUT_READS;
if (!file) throw new Error("set RECORD_INPUT_READS to the file the input names go to");
const read = new Set<string>();
process.env = new Proxy(process.env, {
  get(target, key, receiver) {
    if (typeof key === "string" && key.startsWith("INPUT_")) read.add(key);
    return Reflect.get(target, key, receiver);
  },
});
process.on("exit", () => writeFileSync(file, JSON.stringify([...read].sort())));
