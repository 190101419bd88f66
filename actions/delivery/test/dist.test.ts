import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ACTIONS, bundleAction, distFile, repositoryRoot } from "../src/bundle.ts";
import { renderReadme } from "../src/readme.ts";

describe.each(ACTIONS)("the %s action", (action) => {
  it("has a committed dist/index.js that rebuilding leaves unchanged (run npm run bundle -w @content-engine/delivery)", async () => {
    expect((await bundleAction(action)) === readFileSync(distFile(action), "utf8")).toBe(true);
  });

  it("runs on node24 from dist/index.js", () => {
    const yml = parse(readFileSync(join(repositoryRoot, "actions", action, "action.yml"), "utf8"));
    expect(yml.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });

  it("documents every input and output of action.yml in its README (run node actions/delivery/src/readme.ts)", () => {
    const file = join(repositoryRoot, "actions", action, "README.md");
    // Biome pads markdown tables; compare cell contents, not alignment.
    const cells = (text: string) =>
      text
        .split("\n")
        .map((line) => (line.startsWith("|") ? line.replace(/ *\| */g, "|").replace(/-{3,}/g, "---") : line))
        .join("\n");
    expect(cells(readFileSync(file, "utf8"))).toBe(cells(renderReadme(action)));
  });

  it("reads only inputs that action.yml declares", () => {
    const yml = parse(readFileSync(join(repositoryRoot, "actions", action, "action.yml"), "utf8"));
    const main = readFileSync(join(repositoryRoot, "actions", action, "src", "main.ts"), "utf8");
    const schema = main.slice(main.indexOf("z.object({"), main.indexOf("});"));
    const read = [...schema.matchAll(/^ {2}"?([a-z-]+)"?:/gm)].map((m) => m[1]);
    expect(read.sort()).toEqual(Object.keys(yml.inputs).sort());
  });
});
