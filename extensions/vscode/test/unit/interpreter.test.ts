import { describe, expect, it } from 'vitest';
import {
  baseCandidates,
  installStamp,
  isSupported,
  pipInstallSteps,
  parseProbeOutput,
  serverInstallSpec,
  parsePythonVersion,
  planInterpreter,
  serverArgs,
  venvPython,
  type InterpreterProbe,
} from '../../src/core/interpreter';

type Table = Record<string, InterpreterProbe>;
const probeFrom = (table: Table) => async (python: string): Promise<InterpreterProbe> => table[python] ?? { hasLlmgenie: false, error: 'not found' };
const ok: InterpreterProbe = { version: [3, 12, 1], hasLlmgenie: true };
const bare312: InterpreterProbe = { version: [3, 12, 1], hasLlmgenie: false };
const old: InterpreterProbe = { version: [3, 9, 18], hasLlmgenie: true };
const base = { managedVenvPython: '/g/venv/bin/python', baseCandidates: ['python3.12', 'python3'] };

describe('planInterpreter', () => {
  it('uses the pythonPath setting first', async () => {
    const plan = await planInterpreter({ ...base, settingPath: '/opt/py', pythonExtensionPath: '/ext/py' }, probeFrom({ '/opt/py': ok, '/ext/py': ok }));
    expect(plan).toEqual({ kind: 'use', python: '/opt/py', source: 'setting' });
  });

  it('uses LLMGENIE_PYTHON when the setting is empty, and names it in errors', async () => {
    const plan = await planInterpreter({ ...base, settingPath: '', envPath: '/ci/py' }, probeFrom({ '/ci/py': ok }));
    expect(plan).toEqual({ kind: 'use', python: '/ci/py', source: 'environment' });
    const bad = await planInterpreter({ ...base, envPath: '/ci/py' }, probeFrom({ '/ci/py': bare312 }));
    expect(bad.kind === 'error' && bad.message).toContain('LLMGENIE_PYTHON "/ci/py"');
    const both = await planInterpreter({ ...base, settingPath: '/opt/py', envPath: '/ci/py' }, probeFrom({ '/opt/py': ok, '/ci/py': ok }));
    expect(both).toMatchObject({ python: '/opt/py', source: 'setting' });
  });

  it('explains a setting that lacks llmgenie instead of silently falling back', async () => {
    const plan = await planInterpreter({ ...base, settingPath: '/opt/py' }, probeFrom({ '/opt/py': bare312 }));
    expect(plan.kind).toBe('error');
    if (plan.kind === 'error') expect(plan.message).toContain('-m pip install llmgenie');
  });

  it('rejects a too-old Python in the setting', async () => {
    const plan = await planInterpreter({ ...base, settingPath: '/opt/py' }, probeFrom({ '/opt/py': old }));
    expect(plan.kind === 'error' && plan.message).toContain('needs Python ≥ 3.11');
  });

  it('reports a setting that does not run', async () => {
    const plan = await planInterpreter({ ...base, settingPath: '/nope' }, probeFrom({}));
    expect(plan.kind === 'error' && plan.message).toContain('does not run');
  });

  it("uses the Python extension's interpreter when llmgenie is installed there", async () => {
    const plan = await planInterpreter({ ...base, pythonExtensionPath: '/ext/py' }, probeFrom({ '/ext/py': ok }));
    expect(plan).toEqual({ kind: 'use', python: '/ext/py', source: 'pythonExtension' });
  });

  it("skips the Python extension's interpreter without llmgenie and uses the managed venv", async () => {
    const plan = await planInterpreter({ ...base, pythonExtensionPath: '/ext/py' }, probeFrom({ '/ext/py': bare312, '/g/venv/bin/python': ok }));
    expect(plan).toEqual({ kind: 'use', python: '/g/venv/bin/python', source: 'managed' });
  });

  it('plans an install with the first supported base interpreter on first run', async () => {
    const plan = await planInterpreter(base, probeFrom({ 'python3.12': bare312, python3: old }));
    expect(plan).toEqual({ kind: 'install', python: '/g/venv/bin/python', basePython: 'python3.12', reason: 'first run' });
  });

  it('reinstalls the managed venv when the extension ships another llmgenie build (extension update)', async () => {
    const probe = probeFrom({ '/g/venv/bin/python': ok, 'python3.12': bare312 });
    const same = await planInterpreter({ ...base, managedInstalled: 'llmgenie-0.1.0.whl sha256:aa', managedWanted: 'llmgenie-0.1.0.whl sha256:aa' }, probe);
    expect(same).toEqual({ kind: 'use', python: '/g/venv/bin/python', source: 'managed' });
    const updated = await planInterpreter({ ...base, managedInstalled: 'llmgenie-0.1.0.whl sha256:aa', managedWanted: 'llmgenie-0.1.0.whl sha256:bb' }, probe);
    expect(updated).toMatchObject({ kind: 'install', python: '/g/venv/bin/python', basePython: '/g/venv/bin/python', replace: true });
    expect(updated.kind === 'install' && updated.reason).toContain('installed: llmgenie-0.1.0.whl sha256:aa');
    // a venv from before install stamps: what it holds is unknown, so it is brought up to date once
    const unstamped = await planInterpreter({ ...base, managedWanted: 'llmgenie-0.1.0.whl sha256:bb' }, probe);
    expect(unstamped).toMatchObject({ kind: 'install', replace: true });
    // nothing to install (no wheel, no serverPackage): the working venv runs as it is
    expect(await planInterpreter({ ...base, managedInstalled: 'x' }, probe)).toEqual({ kind: 'use', python: '/g/venv/bin/python', source: 'managed' });
  });

  it('says clearly when no Python >= 3.11 exists', async () => {
    const plan = await planInterpreter(base, probeFrom({ python3: old }));
    expect(plan.kind).toBe('error');
    if (plan.kind === 'error') {
      expect(plan.message).toContain('needs Python ≥ 3.11');
      expect(plan.message).toContain('python3 (3.9.18)');
    }
  });
});

describe('interpreter helpers', () => {
  it('parses versions and probe output', () => {
    expect(parsePythonVersion('3 11 7')).toEqual([3, 11, 7]);
    expect(parsePythonVersion('Python 3.12.1')).toEqual([3, 12, 1]);
    expect(parsePythonVersion('garbage')).toBeUndefined();
    expect(parseProbeOutput('3 11 7\nTrue\n')).toEqual({ version: [3, 11, 7], hasLlmgenie: true });
    expect(parseProbeOutput('3 13 0\nFalse\n')).toEqual({ version: [3, 13, 0], hasLlmgenie: false });
    expect(parseProbeOutput('Traceback...').hasLlmgenie).toBe(false);
  });
  it('checks the minimum version', () => {
    expect(isSupported([3, 11, 0])).toBe(true);
    expect(isSupported([3, 10, 12])).toBe(false);
    expect(isSupported([4, 0, 0])).toBe(true);
    expect(isSupported(undefined)).toBe(false);
  });
  it('knows venv layouts and the server command line', () => {
    expect(venvPython('/x/venv', 'linux')).toBe('/x/venv/bin/python');
    expect(venvPython('C:\\x\\venv', 'win32')).toBe('C:\\x\\venv\\Scripts\\python.exe');
    expect(baseCandidates('linux')[0]).toBe('python3.14');
    expect(serverArgs()).toEqual(['-m', 'llmgenie', 'serve', '--stdio']);
  });
});

describe('install stamps and pip steps', () => {
  it('stamps a wheel by name and content, a package spec by its text', () => {
    const sha = 'ab'.repeat(32);
    expect(installStamp('/ext/server-dist/llmgenie-0.1.0-py3-none-any.whl', sha)).toBe('llmgenie-0.1.0-py3-none-any.whl sha256:abababababababab');
    expect(installStamp('C:\\ext\\server-dist\\llmgenie-0.1.0-py3-none-any.whl', sha)).toBe('llmgenie-0.1.0-py3-none-any.whl sha256:abababababababab');
    expect(installStamp('llmgenie==0.2.0')).toBe('llmgenie==0.2.0');
  });

  it('forces the replaced build in, without reinstalling its dependencies', () => {
    const first = pipInstallSteps('/w.whl', false);
    expect(first).toEqual([['-m', 'pip', 'install', '--disable-pip-version-check', '--upgrade', '/w.whl']]);
    const update = pipInstallSteps('/w.whl', true);
    expect(update).toHaveLength(2);
    expect(update[1]).toEqual(['-m', 'pip', 'install', '--disable-pip-version-check', '--force-reinstall', '--no-deps', '/w.whl']);
  });
});

describe('serverInstallSpec', () => {
  it("installs the user's package when set, else the newest bundled wheel, else nothing", () => {
    const wheels = ['/ext/server-dist/llmgenie-0.1.0-py3-none-any.whl', '/ext/server-dist/llmgenie-0.10.2-py3-none-any.whl', '/ext/server-dist/README.txt'];
    expect(serverInstallSpec('llmgenie==0.2.0', wheels)).toBe('llmgenie==0.2.0');
    expect(serverInstallSpec('  ', wheels)).toBe('/ext/server-dist/llmgenie-0.10.2-py3-none-any.whl');
    expect(serverInstallSpec(undefined, ['C:\\ext\\server-dist\\llmgenie-0.1.0-py3-none-any.whl'])).toBe(
      'C:\\ext\\server-dist\\llmgenie-0.1.0-py3-none-any.whl',
    );
    expect(serverInstallSpec('', [])).toBeUndefined(); // never a bare name from the index
    expect(serverInstallSpec('', ['/x/other-1.0-py3-none-any.whl'])).toBeUndefined();
  });
});
