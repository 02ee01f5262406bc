import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * Built to dist/ and served by vendor-bff (ROLE=admin) under /admin/, so every asset URL carries that base.
 * In development the API is a local vendor-bff-admin on 8080; proxying keeps the browser same-origin, as
 * in production, so no CORS setup exists anywhere.
 */
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: { '/v1': { target: 'http://127.0.0.1:8080', changeOrigin: false } },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Maps for reading production stack traces, without the comment that makes every browser fetch them.
    sourcemap: 'hidden',
    rollupOptions: {
      output: {
        // MUI changes less often than the app: its own chunk stays cached across app releases. ECharts is
        // already apart: the preview loads it lazily so the form is usable first on a slow phone.
        manualChunks: { mui: ['@mui/material'] },
      },
    },
    // The one chunk above Vite's 500 kB default is ECharts (≈175 kB gzipped), loaded after the page.
    chunkSizeWarningLimit: 600,
  },
});
