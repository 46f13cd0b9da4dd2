/**
 * Stands in for codemirror-json-schema's `utils/markdown` (see vite.config.ts). The original
 * renders schema descriptions with markdown-it and starts Shiki, a syntax highlighter with a
 * WebAssembly engine, at import: megabytes and a `wasm-unsafe-eval` CSP exception for hover text
 * that in the mapping schema is plain sentences with the odd `code`. This escapes the text and
 * keeps only inline code.
 */
function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** HTML for a schema description or error text: escaped, with `code` spans and line breaks. */
export function renderMarkdown(markdown: string, inline = true): string {
  const html = escapeHtml(markdown)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\r?\n/g, '<br>');
  return inline ? html : `<p>${html}</p>`;
}
