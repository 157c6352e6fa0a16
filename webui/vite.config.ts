/// <reference types="vitest/config" />
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * Writes name.gz beside every script and stylesheet the build emits; the hub
 * sends it to browsers that accept gzip (hub/internal/server/http.go).
 */
function precompress(): Plugin {
  return {
    name: 'gpumon-precompress',
    apply: 'build',
    writeBundle(options, bundle) {
      let plain = 0;
      let packed = 0;
      for (const file of Object.keys(bundle)) {
        if (!/\.(js|css|svg|json)$/.test(file)) continue;
        const full = path.join(options.dir ?? 'site/app', file);
        const data = readFileSync(full);
        const gz = gzipSync(data, { level: 9 });
        if (data.length < 1024 || gz.length > data.length * 0.9) continue;
        writeFileSync(`${full}.gz`, gz);
        plain += data.length;
        packed += gz.length;
      }
      this.info(`gzip: ${(plain / 1024).toFixed(0)} kB of scripts and styles stored as ${(packed / 1024).toFixed(0)} kB`);
    },
  };
}

// The hub serves the built files from site/app (see embed.go). A relative base
// lets it serve them under any path prefix.
export default defineConfig({
  base: './',
  plugins: [react(), precompress()],
  build: {
    outDir: 'site/app',
    emptyOutDir: true,
    reportCompressedSize: true,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (!id.includes('node_modules')) return undefined;
          if (/[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/.test(id)) return 'react';
          return undefined;
        },
      },
    },
  },
  server: {
    proxy: {
      '/api': { target: process.env.GPUMON_HUB ?? 'http://127.0.0.1:7864', changeOrigin: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    testTimeout: 60_000,
  },
});
