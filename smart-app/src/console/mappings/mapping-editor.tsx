/**
 * The CodeMirror 6 editor of one mapping file. It lives in a shadow root: CodeMirror then styles
 * itself with constructed style sheets, which the console's Content-Security-Policy
 * (`style-src 'self'`) allows, where the `<style>` elements it would otherwise add are refused.
 * The document is owned by the editor; the workbench hears every change and pushes the engine's
 * problems in.
 */
import type { EditorView as EditorViewType } from '@codemirror/view';
import { EditorState } from '@codemirror/state';
import { EditorView } from '@codemirror/view';
import { updateSchema } from 'codemirror-json-schema';
import type { JSONSchema7 } from 'json-schema';
import { useEffect, useRef, type ReactElement } from 'react';
import { editorExtensions, setServerProblems } from './editor-extensions';
import type { LineProblem } from './server-problems';

export interface MappingEditorProps {
  readonly path: string;
  /** The text at mount; remount (a new `key`) to load another. */
  readonly initialText: string;
  readonly schema: JSONSchema7 | undefined;
  readonly problems: readonly LineProblem[];
  readonly onChange: (text: string) => void;
  readonly readOnly?: boolean;
}

export function MappingEditor(props: MappingEditorProps): ReactElement {
  const { path, initialText, schema, problems, readOnly } = props;
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorViewType | undefined>(undefined);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;
  const language = /\.ya?ml$/.test(path) ? 'yaml' : 'csv';

  useEffect(() => {
    const el = host.current;
    if (el === null) return undefined;
    const shadow = el.shadowRoot ?? el.attachShadow({ mode: 'open' });
    const container = document.createElement('div');
    shadow.appendChild(container);
    const v = new EditorView({
      parent: container,
      root: shadow,
      state: EditorState.create({
        doc: initialText,
        extensions: editorExtensions({
          language,
          schema,
          label: `Mapping file ${path}`,
          readOnly: readOnly === true,
          onChange: (text) => {
            onChange.current(text);
          },
        }),
      }),
    });
    view.current = v;
    return () => {
      v.destroy();
      container.remove();
      view.current = undefined;
    };
    // The editor is built once per mount; later props reach it through the effects below.
  }, []);

  useEffect(() => {
    if (view.current !== undefined && language === 'yaml' && schema !== undefined) {
      updateSchema(view.current, schema);
    }
  }, [schema, language]);

  useEffect(() => {
    const v = view.current;
    if (v === undefined) return;
    // The first problem with a line is brought on screen: that is where the fix goes.
    const first = problems.find((p) => p.line !== undefined)?.line;
    const at =
      first === undefined
        ? undefined
        : v.state.doc.line(Math.min(Math.max(first, 1), v.state.doc.lines)).from;
    v.dispatch({
      effects:
        at === undefined
          ? setServerProblems.of(problems)
          : [setServerProblems.of(problems), EditorView.scrollIntoView(at, { y: 'center' })],
    });
  }, [problems]);

  return <div ref={host} className="mapping-editor" data-path={path} />;
}
