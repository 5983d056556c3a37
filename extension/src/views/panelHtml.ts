// The Metrics webview's HTML: a strict Content Security Policy (nothing inline, scripts by nonce,
// styles/fonts/images only from the extension's webview bundle), one script, one stylesheet.
// Pure (no `vscode`), so its policy is tested under plain Node.
import { randomBytes } from 'node:crypto';

export interface PanelHtmlInput {
  /** webview.cspSource */
  cspSource: string;
  scriptUri: string;
  styleUri: string;
  nonce?: string;
  /** The document's title (default "Inferscope Metrics"). */
  title?: string;
}

export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

export function panelHtml(input: PanelHtmlInput): string {
  const nonce = input.nonce ?? newNonce();
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${input.cspSource}`,
    `font-src ${input.cspSource}`,
    `img-src ${input.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(input.styleUri)}">
<title>${escapeAttr(input.title ?? 'Inferscope Metrics')}</title>
</head>
<body>
<main id="app" aria-live="off"><p class="muted">Loading…</p></main>
<script nonce="${nonce}" src="${escapeAttr(input.scriptUri)}"></script>
</body>
</html>
`;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
