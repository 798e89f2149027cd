/// <reference types="vitest/config" />
import vue from "@vitejs/plugin-vue";
import { defineConfig } from "vite";

// Relative asset URLs: the same build works at a bucket's root, under a path, and on the local stack.
// Hash routing (src/router.ts) keeps every deep link a request for index.html, so S3 needs no rewrite rule.
export default defineConfig({
  base: "./",
  plugins: [vue()],
  // `npm run dev`: the API of a running `make run`, on the dev server's own origin.
  server: { proxy: { "/api": process.env.QUANTLINK_API ?? "http://127.0.0.1:3000" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 700,
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "happy-dom",
    restoreMocks: true,
  },
});
