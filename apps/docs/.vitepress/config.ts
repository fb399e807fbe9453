import { defineConfig } from 'vitepress';

// Cross-origin isolation lets tfjs pick its threaded SIMD WebAssembly build in the browser.
export const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  title: 'graft',
  description:
    'Transfer and multi-task learning for vision networks in TypeScript, on TensorFlow.js WebAssembly',
  srcDir: 'guides',
  cleanUrls: false,
  // Dead internal links fail the build (VitePress's check, kept on).
  ignoreDeadLinks: false,
  lastUpdated: false,
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]],
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/concepts' },
      { text: 'Live demo', link: '/demo' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: [
      {
        text: 'Guide',
        items: [
          { text: 'Transfer and multi-task learning', link: '/guide/concepts' },
          { text: 'Quick start', link: '/guide/quick-start' },
          { text: 'How much to retrain', link: '/guide/freezing' },
          { text: 'Multi-task, missing labels, weighting', link: '/guide/multi-task' },
          { text: 'Your own Keras / TF.js model', link: '/guide/own-model' },
          { text: 'Datasets and manifests', link: '/guide/datasets' },
          { text: 'The CLI', link: '/guide/cli' },
          { text: 'Performance', link: '/guide/performance' },
        ],
      },
      { text: 'Live demo', items: [{ text: 'Train in your browser', link: '/demo' }] },
      {
        text: 'API reference',
        items: [
          { text: '@graft/core', link: '/api/core/' },
          { text: '@graft/datasets', link: '/api/datasets/' },
          { text: '@graft/heads', link: '/api/heads/' },
          { text: '@graft/freeze', link: '/api/freeze/' },
        ],
      },
    ],
    search: { provider: 'local' },
  },
  vite: {
    server: { headers: isolationHeaders },
    preview: { headers: isolationHeaders },
    build: { chunkSizeWarningLimit: 4096 },
    optimizeDeps: { exclude: ['@tensorflow/tfjs-backend-wasm'] },
  },
});
