// Playwright drives Debian's Chromium (no browser download) against the code-server that
// scripts/e2e.sh started. One worker, steps in order: it is one user session.
import { defineConfig } from '@playwright/test';

const artifacts = process.env.E2E_ARTIFACTS ?? '../../test-artifacts/e2e';

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts/,
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  outputDir: `${artifacts}/playwright`,
  reporter: [['list'], ['json', { outputFile: `${artifacts}/results.json` }]],
  use: {
    browserName: 'chromium',
    viewport: { width: 1600, height: 1000 },
    launchOptions: {
      executablePath: process.env.E2E_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
    trace: 'retain-on-failure',
  },
});
