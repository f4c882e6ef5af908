/** The llmgenie status bar item: text from core/statusText.ts; a click shows the details. */
import * as vscode from 'vscode';
import { computeStatus } from './core/statusText';
import type { ServerManager } from './server/serverManager';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('llmgenie.status', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly server: ServerManager) {
    this.item.name = 'llmgenie';
    this.item.command = 'llmgenie.ui.showStatus';
    this.disposables.push(server.onPhase(() => this.render()), server.onStatus(() => this.render()));
    this.render();
    this.item.show();
  }

  render(): void {
    const view = computeStatus(this.server.phase, this.server.status);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
  }

  dispose(): void {
    this.item.dispose();
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}
