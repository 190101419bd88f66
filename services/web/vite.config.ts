// Builds the console to dist/: index.html plus content-hashed files under assets/.
// `npm run dev -w @content-engine/web` serves it with the API of `npm start` behind a proxy.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const api = process.env.CONTENT_ENGINE_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: { "/v1": api, "/config.json": api },
  },
});
