/**
 * The chat webview's Content Security Policy: nothing by default; scripts only with the
 * per-load nonce; styles, fonts and images only from the extension's own files.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}
