/**
 * API key and team-server token in VS Code's SecretStorage (the OS keychain), never in
 * settings.json. They reach the server only through initializationOptions over the pipe.
 */
import * as vscode from 'vscode';
import type { Secrets } from '../core/initOptions';

const API_KEY = 'llmgenie.apiKey';
const TEAM_TOKEN = 'llmgenie.teamToken';

export class SecretStore {
  constructor(private readonly storage: vscode.SecretStorage) {}

  readonly onDidChange = (listener: () => void): vscode.Disposable =>
    this.storage.onDidChange((e) => {
      if (e.key === API_KEY || e.key === TEAM_TOKEN) {
        listener();
      }
    });

  async read(): Promise<Secrets> {
    return { apiKey: await this.storage.get(API_KEY), teamToken: await this.storage.get(TEAM_TOKEN) };
  }
  setApiKey(value: string): Thenable<void> {
    return this.storage.store(API_KEY, value);
  }
  clearApiKey(): Thenable<void> {
    return this.storage.delete(API_KEY);
  }
  setTeamToken(value: string): Thenable<void> {
    return this.storage.store(TEAM_TOKEN, value);
  }
  clearTeamToken(): Thenable<void> {
    return this.storage.delete(TEAM_TOKEN);
  }
}
