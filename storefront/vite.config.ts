// The storefront is served by a Spin component at `/` (SPA fallback to index.html) next to the
// GraphQL gateway at `/graphql`, so everything is same-origin. `npm run dev` proxies /graphql to
// SPINCART_URL (default http://127.0.0.1:3000).
import { defineConfig, loadEnv } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, '.', 'SPINCART_')
  const target = env.SPINCART_URL || 'http://127.0.0.1:3000'
  return {
    plugins: [vue()],
    build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false },
    server: { proxy: { '/graphql': { target, changeOrigin: false } } },
  }
})
