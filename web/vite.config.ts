import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The build goes where crates/cairn-server/build.rs asks (--outDir), and is embedded into
// the binary. `npm run dev` proxies the API to a running `cairn serve`.
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // No inline scripts or data: URLs, so the Content-Security-Policy can forbid them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/v1": "http://127.0.0.1:8080",
    },
  },
});
