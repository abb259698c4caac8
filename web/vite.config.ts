// The pages' build: one HTML entry per page, hashed assets under /assets/, written into the API package
// (api/pages/dist/, git-ignored) so that api/routes/pages.py serves it and `pip install -e .` finds it.
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  publicDir: false,
  build: {
    outDir: resolve(import.meta.dirname, "../api/pages/dist"),
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    chunkSizeWarningLimit: 2000, // Phaser alone is ~1.2 MB minified; it loads once and is cached for a year
    rolldownOptions: {
      input: {
        plaza: resolve(import.meta.dirname, "plaza.html"),
        dashboard: resolve(import.meta.dirname, "dashboard.html"),
        partner: resolve(import.meta.dirname, "partner.html"),
      },
      checks: { bundlerTimings: false }, // a report for profiling the build, not a problem with it
    },
  },
});
