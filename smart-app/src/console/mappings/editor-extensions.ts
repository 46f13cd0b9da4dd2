/**
 * What the mapping editor knows: YAML with completion, hover and linting from the mapping schema
 * (codemirror-json-schema), plus the engine's own verdict (a dry run's or deploy's 422) as lint
 * marks at the lines it names. Code tables (CSV) are plain text with line numbers.
 */
import { linter, lintGutter, type Diagnostic } from '@codemirror/lint';
import { StateEffect, StateField, type EditorState, type Extension } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { yamlSchema } from 'codemirror-json-schema/yaml';
import type { JSONSchema7 } from 'json-schema';
import { editorSetup } from './editor-setup';
import type { LineProblem } from './server-problems';

/** Replaces the engine's problems shown in the editor. */
export const setServerProblems = StateEffect.define<readonly LineProblem[]>();

const serverProblems = StateField.define<readonly LineProblem[]>({
  create: () => [],
  update(value, tr) {
    let next = value;
    for (const e of tr.effects) if (e.is(setServerProblems)) next = e.value;
    return next;
  },
});

/** The engine's problems as diagnostics on whole lines (a line past the end marks the last). */
export function serverDiagnostics(state: EditorState): Diagnostic[] {
  return state.field(serverProblems).map((p) => {
    const line = state.doc.line(Math.min(Math.max(p.line ?? 1, 1), state.doc.lines));
    return { from: line.from, to: line.to, severity: 'error', source: 'engine', message: p.message };
  });
}

function serverProblemLinter(): Extension {
  return [
    serverProblems,
    linter((view) => serverDiagnostics(view.state), {
      delay: 0,
      needsRefresh: (update) =>
        update.transactions.some((tr) => tr.effects.some((e) => e.is(setServerProblems))),
    }),
  ];
}

/** Readable in the console's type and colours, with a visible focus ring (WCAG 2.4.7). */
const consoleTheme = EditorView.theme({
  '&': {
    height: '30rem',
    border: '1px solid #6b7480',
    borderRadius: '4px',
    fontSize: '0.9rem',
    backgroundColor: '#ffffff',
  },
  '&.cm-focused': { outline: '3px solid #0b5fa5', outlineOffset: '2px' },
  '.cm-scroller': {
    overflow: 'auto',
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, 'Liberation Mono', monospace",
  },
  '.cm-gutters': { backgroundColor: '#f6f7f9', color: '#4a4a4a', borderRight: '1px solid #c9ced6' },
  '.cm-tooltip': { maxWidth: '36rem' },
});

export interface EditorExtensionOptions {
  readonly language: 'yaml' | 'csv';
  readonly schema: JSONSchema7 | undefined;
  /** The accessible name of the editing area. */
  readonly label: string;
  readonly readOnly: boolean;
  readonly onChange: (text: string) => void;
}

export function editorExtensions(o: EditorExtensionOptions): Extension[] {
  return [
    editorSetup(),
    consoleTheme,
    lintGutter(),
    serverProblemLinter(),
    ...(o.language === 'yaml' ? yamlSchema(o.schema) : []),
    // An explicit tab stop: a contenteditable is focusable anyway, but not every checker (axe's
    // scrollable-region rule) counts it as keyboard access to the scrolling editor.
    EditorView.contentAttributes.of({ 'aria-label': o.label, tabindex: '0' }),
    EditorView.editable.of(!o.readOnly),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) o.onChange(update.state.doc.toString());
    }),
  ];
}
