/**
 * What @-mentions in the chat complete to and attach, from the workspace: file and folder
 * names from the editor's file search, symbols from the server's `llmgenie/search`. The
 * ranking and the prompt are pure (core/mentions.ts); this only fetches.
 */
import * as vscode from 'vscode';
import { firstExisting, foldersToTry } from '../core/folders';
import {
  fileItems,
  foldersOf,
  kindItems,
  knowledgeItems,
  knowledgeQuery,
  knowledgeText,
  symbolItems,
  type KnowledgeHit,
  type Attachment,
  type Mention,
  type MentionItem,
  type MentionKind,
} from '../core/mentions';
import { Methods, type SearchHitChunk, type SearchResult } from '../core/protocol';
import type { ServerManager } from '../server/serverManager';

const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.venv/**,**/venv/**,**/__pycache__/**,**/.llmgenie/**,**/dist/**,**/out/**}';
const MAX_FILES = 5000;
const MAX_FILE_BYTES = 512 * 1024;
const MAX_FOLDER_FILES = 300;

export class MentionSource {
  private files: { at: number; list: Promise<string[]> } | undefined;

  constructor(private readonly server: ServerManager) {}

  /** Workspace-relative paths of the workspace's files (cached for a few seconds while typing). */
  private workspaceFiles(): Promise<string[]> {
    if (!this.files || Date.now() - this.files.at > 5000) {
      const list = Promise.resolve(vscode.workspace.findFiles('**/*', EXCLUDE, MAX_FILES)).then(
        (uris) => uris.map((u) => vscode.workspace.asRelativePath(u, false).replace(/\\/g, '/')),
        () => [] as string[],
      );
      this.files = { at: Date.now(), list };
    }
    return this.files.list;
  }

  private async searchSymbols(query: string): Promise<SearchHitChunk[]> {
    if (!query.trim() || !this.server.running) {
      return [];
    }
    try {
      const result = await this.server.request<SearchResult>(Methods.search, { query, k: 50 });
      return result.chunks.filter((c) => c.symbol);
    } catch (err) {
      this.server.log.appendLine(`[chat] @symbol search failed: ${String(err)}`);
      return [];
    }
  }

  private async searchKnowledge(words: string, k: number): Promise<KnowledgeHit[]> {
    if (!words.trim() || !this.server.running) {
      return [];
    }
    try {
      return (await this.server.request<{ hits: KnowledgeHit[] }>(Methods.knowledge, { query: words, k })).hits;
    } catch (err) {
      this.server.log.appendLine(`[chat] @knowledge search failed: ${String(err)}`);
      return [];
    }
  }

  async complete(kind: MentionKind | undefined, query: string): Promise<MentionItem[]> {
    switch (kind) {
      case undefined:
        return kindItems(query);
      case 'file':
        return fileItems(await this.workspaceFiles(), query, 'file');
      case 'folder':
        return fileItems(foldersOf(await this.workspaceFiles()), query, 'folder');
      case 'symbol':
        return symbolItems(await this.searchSymbols(query), query);
      case 'knowledge':
        return knowledgeItems(query ? await this.searchKnowledge(knowledgeQuery(query), 8) : [], query);
    }
  }

  /** The content each mention attaches (one per distinct mention, in order). */
  async resolve(mentions: ReadonlyArray<Mention>): Promise<Attachment[]> {
    const seen = new Set<string>();
    const out: Attachment[] = [];
    for (const m of mentions) {
      const key = `${m.kind}:${m.value}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(await this.attachment(m.kind, m.value));
    }
    return out;
  }

  private async attachment(kind: MentionKind, value: string): Promise<Attachment> {
    const missing: Attachment = { kind, name: value, path: value, text: '', missing: true };
    if (kind === 'knowledge') {
      const hits = await this.searchKnowledge(knowledgeQuery(value), 4);
      return hits.length ? { kind, name: value, path: '', text: knowledgeText(hits) } : missing;
    }
    if (kind === 'symbol') {
      const hits = await this.searchSymbols(value);
      const hit = hits.find((h) => h.symbol === value) ?? hits.find((h) => h.symbol?.endsWith(`.${value}`));
      if (!hit) return missing;
      const text = hit.text ?? (await this.lines(vscode.Uri.parse(hit.uri), hit.start_line, hit.end_line));
      return text === undefined ? missing : { kind, name: value, path: hit.path, startLine: hit.start_line, text };
    }
    const uri = await this.locate(value);
    if (!uri) return missing;
    if (kind === 'folder') {
      const found = await vscode.workspace.findFiles(new vscode.RelativePattern(uri, '**/*'), EXCLUDE, MAX_FOLDER_FILES);
      const list = found.map((u) => vscode.workspace.asRelativePath(u, false).replace(/\\/g, '/')).sort();
      const more = found.length >= MAX_FOLDER_FILES ? `\n[the first ${MAX_FOLDER_FILES} files only]` : '';
      return { kind, name: value, path: value, text: list.join('\n') + more };
    }
    const text = await this.read(uri);
    return text === undefined ? missing : { kind, name: value, path: value, text };
  }

  /** A workspace-relative path in the folder of the active editor first, then any folder. */
  private async locate(rel: string): Promise<vscode.Uri | undefined> {
    const editor = vscode.window.activeTextEditor;
    const active = editor ? vscode.workspace.getWorkspaceFolder(editor.document.uri) : undefined;
    const candidates = foldersToTry(vscode.workspace.workspaceFolders ?? [], active).map((f) => vscode.Uri.joinPath(f.uri, rel));
    return firstExisting(candidates, async (c) => {
      try {
        await vscode.workspace.fs.stat(c);
        return true;
      } catch {
        return false;
      }
    });
  }

  /** The text of a file: the open buffer (unsaved changes included), else the disk. */
  private async read(uri: vscode.Uri): Promise<string | undefined> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (open) return open.getText();
    try {
      const stat = await vscode.workspace.fs.stat(uri);
      if (stat.type & vscode.FileType.Directory) return undefined;
      const bytes = await vscode.workspace.fs.readFile(uri);
      const head = bytes.subarray(0, MAX_FILE_BYTES);
      if (head.includes(0)) return undefined; // binary
      const text = new TextDecoder().decode(head);
      return bytes.length > MAX_FILE_BYTES ? `${text}\n[the first ${MAX_FILE_BYTES} bytes only]` : text;
    } catch {
      return undefined;
    }
  }

  private async lines(uri: vscode.Uri, start: number, end: number): Promise<string | undefined> {
    const text = await this.read(uri);
    return text?.split('\n').slice(start - 1, end).join('\n');
  }
}
