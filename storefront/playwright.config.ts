// Browser tests against a running spincart (its storefront and GraphQL gateway), in the
// system's Chromium — no browser download. SPINCART_URL picks the app (default :3000);
// CHROMIUM_PATH the browser. Failure screenshots and traces go to target/playwright/,
// the deliberate screenshots to target/screenshots/.
import { defineConfig } from '@playwright/test'

declare const process: { env: Record<string, string | undefined> }

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export default defineConfig({
  testDir: './tests',
  outputDir: '../target/playwright',
  timeout: 120_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: process.env.SPINCART_URL || 'http://127.0.0.1:3000',
    headless: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    viewport: { width: 1280, height: 900 },
    actionTimeout: 15_000,
    navigationTimeout: 30_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
  },
})
