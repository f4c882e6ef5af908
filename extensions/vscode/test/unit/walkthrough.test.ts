import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WALKTHROUGH_ID, shouldOpenWalkthrough, walkthroughRef } from '../../src/core/walkthrough';

interface Manifest {
  publisher: string;
  name: string;
  contributes: {
    commands: Array<{ command: string }>;
    walkthroughs: Array<{ id: string; steps: Array<{ description: string; media: { markdown?: string }; completionEvents?: string[] }> }>;
  };
}

const root = join(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;

describe('the first-run walkthrough', () => {
  const noModel = { model: { configured: false } };
  const model = { model: { configured: true, model: 'openai/gpt-4o-mini' } };

  it('opens once, when the server says no model is configured', () => {
    expect(shouldOpenWalkthrough(false, noModel)).toBe(true);
    expect(shouldOpenWalkthrough(true, noModel)).toBe(false);
    expect(shouldOpenWalkthrough(false, model)).toBe(false);
    expect(shouldOpenWalkthrough(false, undefined)).toBe(false); // no status yet: wait for it
  });

  it('is the one package.json declares, and its links run commands the extension has', () => {
    const [walkthrough] = manifest.contributes.walkthroughs;
    expect(walkthrough?.id).toBe(WALKTHROUGH_ID);
    expect(walkthroughRef(manifest.publisher, manifest.name)).toBe(`${manifest.publisher}.${manifest.name}#${WALKTHROUGH_ID}`);
    const commands = new Set(manifest.contributes.commands.map((c) => c.command));
    const steps = walkthrough?.steps ?? [];
    expect(steps.map((s) => s.description).join('\n')).toContain('command:llmgenie.ui.configureModel');
    for (const step of steps) {
      for (const [, command] of step.description.matchAll(/\(command:([\w.]+)\)/g)) {
        expect(commands, `${command} is a contributed command`).toContain(command);
      }
      for (const event of step.completionEvents ?? []) {
        const command = /^onCommand:(.+)$/.exec(event)?.[1];
        if (command) expect(commands).toContain(command);
      }
      expect(step.media.markdown && readFileSync(join(root, step.media.markdown), 'utf8')).toMatch(/^# /);
    }
  });
});
