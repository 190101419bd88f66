import { basename } from "node:path";
import { cyclonedxEsbuildPlugin } from "@cyclonedx/cyclonedx-esbuild";
import { type BuildOptions, build } from "esbuild";

/**
 * One esbuild configuration for every Node artefact we ship (API and worker images, the Lambda zip):
 * ESM for Node 24, dependencies inlined, CommonJS packages given a `require`. Beside each bundle,
 * `<bundle>.cdx.json`: a CycloneDX SBOM of exactly the packages esbuild inlined (after tree-shaking),
 * which build-push attaches to the image as an OCI referrer.
 */
export async function bundleNode(
  entry: string | undefined,
  outfile: string,
  extra: Partial<BuildOptions> = {},
): Promise<void> {
  await build({
    // No entry: `extra.stdin` supplies the module to bundle.
    ...(entry ? { entryPoints: [entry] } : {}),
    outfile,
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    sourcemap: "linked",
    minify: false,
    legalComments: "none",
    logLevel: "warning",
    banner: {
      js: "import { createRequire as __ceCreateRequire } from 'node:module'; const require = __ceCreateRequire(import.meta.url);",
    },
    ...extra,
    plugins: [
      ...(extra.plugins ?? []),
      cyclonedxEsbuildPlugin({
        specVersion: "1.6",
        outputFile: `${basename(outfile)}.cdx.json`,
        outputReproducible: true,
        logLevel: "error",
      }),
    ],
  });
}
