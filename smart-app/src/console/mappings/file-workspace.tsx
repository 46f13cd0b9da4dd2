/**
 * One mapping file on the bench: edit it, run it against real or pasted messages and see what
 * would change, run the golden tests, then deploy (admins) with the version it was opened at. The
 * engine's problems with the edit (422) appear in the editor at their lines; a colleague's deploy
 * in between (412) is said plainly, with a reload.
 */
import { useQuery } from '@tanstack/react-query';
import type { JSONSchema7 } from 'json-schema';
import { useRef, useState, type ReactElement } from 'react';
import { useApi } from '../api/api-context';
import { isConsoleApiError } from '../api/api-error';
import type { ConsoleRole } from '../api/api-types';
import type { DeployResult, MappingFileContent, MappingFileEntry } from '../api/mapping-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { formatInstant } from '../common/console-format';
import { Badge } from '../../components/badge';
import { StatusPanel } from '../../components/status-panel';
import { encodeMappingPath } from '../routing/console-route';
import { DryRunForm } from './dry-run-form';
import { DryRunResults } from './dry-run-results';
import { GoldenTestResults } from './golden-test-results';
import { MappingEditor } from './mapping-editor';
import { problemsForFile, type ElsewhereProblem, type FileProblems } from './server-problems';
import { useWorkbenchActions } from './use-workbench-actions';
import { VersionHistory } from './version-history';

const NO_PROBLEMS: FileProblems = { here: [], elsewhere: [] };

/** A 422: the engine refused the file set and listed why (shown in the editor, not as an error box). */
function refusedSet(err: unknown): boolean {
  return isConsoleApiError(err) && err.status === 422;
}

export interface FileWorkspaceProps {
  readonly path: string;
  readonly entry: MappingFileEntry | undefined;
  readonly role: ConsoleRole;
  readonly messageId: string | undefined;
}

export function FileWorkspace({ path, entry, role, messageId }: FileWorkspaceProps): ReactElement {
  const api = useApi();
  const yaml = /\.ya?ml$/.test(path);
  const file = useQuery({
    queryKey: ['mapping-file', path],
    queryFn: ({ signal }) => api.get<MappingFileContent>(`/api/mappings/${encodeMappingPath(path)}`, signal),
    // The editor owns the text once opened: a background refetch must not replace an edit.
    staleTime: Infinity,
    refetchOnWindowFocus: false,
  });
  const schema = useQuery({
    queryKey: ['mapping-schema'],
    queryFn: ({ signal }) => api.get<JSONSchema7>('/api/mappings/schema', signal),
    staleTime: Infinity,
    enabled: yaml,
  });
  const actions = useWorkbenchActions(path);
  const text = useRef<string | undefined>(undefined);
  const baseline = useRef<string | undefined>(undefined);
  const [etag, setEtag] = useState<string | undefined>(undefined);
  const [dirty, setDirty] = useState(false);
  const [revision, setRevision] = useState(0);
  const [problems, setProblems] = useState<FileProblems>(NO_PROBLEMS);
  const [deployed, setDeployed] = useState<DeployResult | undefined>(undefined);
  const isAdmin = role === 'admin';

  if (file.isPending) return <StatusPanel kind="loading" title={`Opening ${path}…`} />;
  if (file.isError) return <ApiErrorNotice error={file.error} title={`Could not open ${path}`} />;
  baseline.current ??= file.data.content;
  const currentEtag = etag ?? file.data.etag;
  const currentText = (): string => text.current ?? file.data.content;

  /** The engine's 422 problems go to the editor; anything else is shown as the error it is. */
  const takeProblems = (err: unknown): void => {
    setProblems(isConsoleApiError(err) && refusedSet(err) ? problemsForFile(err.issues, path) : NO_PROBLEMS);
  };

  const reload = async (): Promise<void> => {
    const fresh = await file.refetch();
    if (fresh.data === undefined) return;
    text.current = undefined;
    baseline.current = fresh.data.content;
    setEtag(undefined);
    setDirty(false);
    setProblems(NO_PROBLEMS);
    actions.deploy.reset();
    setRevision((r) => r + 1);
  };

  const onDeploy = (): void => {
    const content = currentText();
    actions.deploy.mutate(
      { text: content, etag: currentEtag },
      {
        onSuccess: (result) => {
          setEtag(result.etag);
          baseline.current = content;
          setDirty(false);
          setProblems(NO_PROBLEMS);
          setDeployed(result);
        },
        onError: takeProblems,
      },
    );
  };

  const deployError = actions.deploy.error;
  const stale = isConsoleApiError(deployError) && deployError.kind === 'stale';
  // Every problem in words too: the marks in the editor only speak on hover or to the lint panel.
  const listed: readonly ElsewhereProblem[] = [
    ...problems.here.map((p) => ({ ...p, file: path })),
    ...problems.elsewhere,
  ];

  return (
    <div className="file-workspace">
      <div className="view-head">
        <h2 id="file-heading">
          {path} {dirty ? <Badge tone="abnormal">edited</Badge> : null}
        </h2>
        <p className="note">
          {entry?.deployed !== undefined
            ? `Deployed version ${entry.deployed.version} by ${entry.deployed.author}, ${formatInstant(entry.deployed.at)}.`
            : 'Not deployed from the console yet.'}
        </p>
      </div>
      {problems.here.length + problems.elsewhere.length > 0 ? (
        <div className="status status-error" role="alert">
          <p className="status-title">
            The engine refused this set: {problems.here.length + problems.elsewhere.length} problem(s)
            {problems.here.some((p) => p.line !== undefined) ? ', marked in the editor' : ''}.
          </p>
          {listed.length > 0 ? (
            <ul className="issue-lines">
              {listed.map((p, i) => (
                <li key={i}>
                  {p.file !== undefined ? (
                    <code>
                      {p.file}
                      {p.line !== undefined ? `:${p.line}` : ''}
                    </code>
                  ) : null}{' '}
                  {p.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <MappingEditor
        key={revision}
        path={path}
        initialText={file.data.content}
        schema={schema.data}
        problems={problems.here}
        onChange={(t) => {
          text.current = t;
          setDirty(t !== baseline.current);
        }}
      />
      <div className="actions workbench-actions">
        <button
          type="button"
          disabled={actions.goldenTests.isPending}
          onClick={() => {
            actions.goldenTests.mutate({ text: currentText() }, { onError: takeProblems });
          }}
        >
          {actions.goldenTests.isPending ? 'Running golden tests…' : 'Run golden tests'}
        </button>
        <button
          type="button"
          className="primary"
          disabled={!isAdmin || !dirty || actions.deploy.isPending}
          aria-describedby="deploy-note"
          onClick={onDeploy}
        >
          {actions.deploy.isPending ? 'Deploying…' : 'Deploy'}
        </button>
        <button
          type="button"
          onClick={() => {
            if (!dirty || window.confirm(`Discard your changes to ${path}?`)) void reload();
          }}
        >
          Reload
        </button>
        <span id="deploy-note" className="note">
          {isAdmin
            ? dirty
              ? 'Deploy writes the file and reloads the mappings without a restart.'
              : 'Edit the file to deploy a new version.'
            : 'Deploying needs the admin role.'}
        </span>
      </div>
      {deployed !== undefined && !dirty ? (
        <p className="status" role="status">
          Deployed version {deployed.version} of {path} (mapping set {deployed.setVersion}).
        </p>
      ) : null}
      {stale ? (
        <div className="status status-error" role="alert">
          <p className="status-title">Someone else deployed this file since you opened it.</p>
          <p>Reload to get their version (your edit is discarded), then make your change again.</p>
          <button
            type="button"
            onClick={() => {
              void reload();
            }}
          >
            Reload
          </button>
        </div>
      ) : deployError !== null && !refusedSet(deployError) ? (
        <ApiErrorNotice error={deployError} title="Could not deploy" />
      ) : null}

      <section className="run-panel" aria-labelledby="run-heading">
        <h3 id="run-heading">Run</h3>
        <DryRunForm
          initialIds={messageId ?? ''}
          running={actions.dryRun.isPending}
          onRun={(messages) => {
            actions.dryRun.mutate(
              { text: currentText(), messages },
              {
                onSuccess: () => {
                  setProblems(NO_PROBLEMS);
                },
                onError: takeProblems,
              },
            );
          }}
        />
        {actions.dryRun.isError && !refusedSet(actions.dryRun.error) ? (
          <ApiErrorNotice error={actions.dryRun.error} title="The dry run failed" />
        ) : null}
        {actions.dryRun.data !== undefined && !actions.dryRun.isPending ? (
          <DryRunResults answer={actions.dryRun.data} />
        ) : null}
      </section>
      {actions.goldenTests.isError && !refusedSet(actions.goldenTests.error) ? (
        <ApiErrorNotice error={actions.goldenTests.error} title="The golden tests could not run" />
      ) : null}
      {actions.goldenTests.data !== undefined ? (
        <GoldenTestResults answer={actions.goldenTests.data} />
      ) : null}
      <VersionHistory
        path={path}
        etag={currentEtag}
        canRollBack={isAdmin}
        onRolledBack={() => {
          void reload();
        }}
      />
    </div>
  );
}
