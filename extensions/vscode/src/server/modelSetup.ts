/** "Configure a model…" in VS Code: a quick pick over the server's answer (core/modelSetup). */
import * as vscode from 'vscode';
import { modelChoices, validModelName, type ModelSetup } from '../core/modelSetup';

/** Shows the choices; a chosen model goes to the `llmgenie.model` setting (the server
 * restarts with it). */
export async function configureModel(setup: ModelSetup): Promise<void> {
  const pick = await vscode.window.showQuickPick(modelChoices(setup), {
    title: 'llmgenie: Configure a model',
    placeHolder: setup.message,
  });
  if (!pick) return;
  const config = vscode.workspace.getConfiguration('llmgenie');
  switch (pick.action) {
    case 'use':
      await config.update('model', pick.model, vscode.ConfigurationTarget.Global);
      return;
    case 'enter': {
      const model = await vscode.window.showInputBox({ title: 'llmgenie: model', placeHolder: 'openai/gpt-4o-mini', validateInput: validModelName });
      if (model) await config.update('model', model.trim(), vscode.ConfigurationTarget.Global);
      return;
    }
    case 'key':
      await vscode.commands.executeCommand('llmgenie.ui.setApiKey');
      return;
    case 'settings':
      await vscode.commands.executeCommand('workbench.action.openSettings', 'llmgenie.model');
      return;
  }
}
