// Playwright drives Debian's Chromium (no browser download) against the code-server that
// scripts/e2e.sh started. One worker, steps in order: it is one user session.
import { defineConfig } from '@playwright/test';

const artifacts = process.env.E2E_ARTIFACTS ?? '../../test-artifacts/e2e';
// scripts/e2e.sh runs each profile's spec on its own (E2E_RESULTS_NAME=clean for the clean
// profile): each run keeps its own results file and traces.
const suffix = process.env.E2E_RESULTS_NAME ? `-${process.env.E2E_RESULTS_NAME}` : '';

export default defineConfig({
  testDir: '.',
  testMatch: /.*\.spec\.ts/,
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 30_000 },
  outputDir: `${artifacts}/playwright${suffix}`,
  reporter: [['list'], ['json', { outputFile: `${artifacts}/results${suffix}.json` }]],
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
