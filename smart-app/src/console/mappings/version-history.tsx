/**
 * Every deployed version of a file with who deployed it and when; any one can be read, and an
 * admin can roll back to it (a new version with that content, checked and reloaded like a deploy).
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ReactElement } from 'react';
import { useApi } from '../api/api-context';
import type { DeployResult, MappingFileContent, MappingVersion } from '../api/mapping-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { formatInstant } from '../common/console-format';
import { ResultsTable } from '../common/results-table';
import { Disclosure } from '../../components/disclosure';
import { encodeMappingPath } from '../routing/console-route';

export interface VersionHistoryProps {
  readonly path: string;
  /** The file's current etag, which a rollback must name. */
  readonly etag: string | undefined;
  readonly canRollBack: boolean;
  readonly onRolledBack: (result: DeployResult) => void;
}

const COLUMNS = ['Version', 'Action', 'Author', 'When', <span className="visually-hidden">Actions</span>];

function VersionContent({
  path,
  version,
}: {
  readonly path: string;
  readonly version: number;
}): ReactElement {
  const api = useApi();
  const q = useQuery({
    queryKey: ['mapping-version', path, version],
    queryFn: ({ signal }) =>
      api.get<MappingFileContent>(`/api/mappings/${encodeMappingPath(path)}/versions/${version}`, signal),
    staleTime: Infinity,
  });
  if (q.isPending) return <p className="note">Loading…</p>;
  if (q.isError) return <ApiErrorNotice error={q.error} title={`Could not load version ${version}`} />;
  return <pre className="code-block">{q.data.content}</pre>;
}

export function VersionHistory({ path, etag, canRollBack, onRolledBack }: VersionHistoryProps): ReactElement {
  const api = useApi();
  const client = useQueryClient();
  const versions = useQuery({
    queryKey: ['mapping-versions', path],
    queryFn: ({ signal }) =>
      api.get<{ versions: readonly MappingVersion[] }>(
        `/api/mappings/${encodeMappingPath(path)}/versions`,
        signal,
      ),
  });
  const rollback = useMutation({
    mutationFn: async (version: number) =>
      (
        await api.request<DeployResult>(
          'POST',
          `/api/mappings/${encodeMappingPath(path)}/versions/${version}/rollback`,
          { headers: etag !== undefined ? { 'if-match': etag } : {} },
        )
      ).body,
    onSuccess: async (result) => {
      onRolledBack(result);
      await client.invalidateQueries({ queryKey: ['mapping-versions', path] });
      await client.invalidateQueries({ queryKey: ['mappings'] });
    },
  });

  const list = versions.data?.versions ?? [];
  const newest = list[0]?.version;
  return (
    <section className="version-history" aria-labelledby="versions-heading">
      <h3 id="versions-heading">Version history</h3>
      {versions.isPending ? <p className="note">Loading…</p> : null}
      {versions.isError ? (
        <ApiErrorNotice error={versions.error} title="Could not load the versions" />
      ) : null}
      {rollback.isError ? <ApiErrorNotice error={rollback.error} title="Could not roll back" /> : null}
      {versions.isSuccess && list.length === 0 ? (
        <p className="note">No versions recorded yet: the first deploy keeps the file as it was before.</p>
      ) : null}
      {list.length > 0 ? (
        <ResultsTable className="versions" caption={`Versions of ${path}`} columns={COLUMNS}>
          {list.map((v) => (
            <tr key={v.version}>
              <th scope="row">{v.version}</th>
              <td>{v.action}</td>
              <td>{v.author}</td>
              <td>{formatInstant(v.at)}</td>
              <td>
                <Disclosure className="json-block" summary={`View version ${v.version}`}>
                  {() => <VersionContent path={path} version={v.version} />}
                </Disclosure>
                {v.version !== newest ? (
                  <button
                    type="button"
                    disabled={!canRollBack || rollback.isPending || etag === undefined}
                    {...(!canRollBack ? { title: 'Rolling back needs the admin role' } : {})}
                    onClick={() => {
                      rollback.mutate(v.version);
                    }}
                  >
                    Roll back to {v.version}
                  </button>
                ) : (
                  <span className="muted">current</span>
                )}
              </td>
            </tr>
          ))}
        </ResultsTable>
      ) : null}
    </section>
  );
}
