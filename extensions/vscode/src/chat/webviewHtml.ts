/** The chat webview's HTML shell: local script and styles only, strict CSP with a nonce. */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { contentSecurityPolicy } from '../core/csp';

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'out', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'chat.css'));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(webview.cspSource, nonce)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>llmgenie chat</title>
</head>
<body>
<main id="messages" aria-live="polite"></main>
<div id="empty" class="empty">Ask about your code. Select code and press <kbd>Ctrl+Alt+Shift+G</kbd>, or use the lightbulb (<kbd>Ctrl+.</kbd>) for the crew's actions.</div>
<form id="composer">
  <ul id="mentions" role="listbox" aria-label="Mention" hidden></ul>
  <textarea id="prompt" rows="3" placeholder="Ask llmgenie; @ attaches files, folders, symbols, knowledge; /explain, /fix …, /help (Enter to send, Shift+Enter for a new line)" aria-label="Message"></textarea>
  <div class="composer-buttons">
    <button type="button" id="model" class="secondary model-button" title="Choose the model this chat answers with">model</button>
    <button type="button" id="stop" class="secondary" hidden title="Stop the running answer">Stop</button>
    <button type="submit" id="send" title="Send">Send</button>
  </div>
</form>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
}
