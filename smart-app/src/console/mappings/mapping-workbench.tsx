/**
 * "Will my mapping change fix it without breaking the others?": the mapping set's files, and the
 * chosen one on the bench. A file named the way the engine names it in errors
 * (`mappings/rules/patient.yaml`) is resolved to its path in the set, so an error links here.
 */
import { useQuery } from '@tanstack/react-query';
import { useEffect, type ReactElement } from 'react';
import { useApi } from '../api/api-context';
import type { ConsoleRole } from '../api/api-types';
import type { MappingFileList as MappingFiles } from '../api/mapping-types';
import { ApiErrorNotice } from '../common/api-error-notice';
import { StatusPanel } from '../../components/status-panel';
import { navigate } from '../routing/console-navigation';
import { routeHref } from '../routing/console-route';
import { FileWorkspace } from './file-workspace';
import { MappingFileList } from './mapping-file-list';
import { matchMappingPath } from './server-problems';
import './workbench.css';

export interface MappingWorkbenchProps {
  readonly path: string | undefined;
  readonly messageId: string | undefined;
  readonly role: ConsoleRole;
}

export function MappingWorkbench({ path, messageId, role }: MappingWorkbenchProps): ReactElement {
  const api = useApi();
  const files = useQuery({
    queryKey: ['mappings'],
    queryFn: ({ signal }) => api.get<MappingFiles>('/api/mappings', signal),
  });
  const paths = files.data?.files.map((f) => f.path) ?? [];
  const resolved = path === undefined || paths.includes(path) ? path : matchMappingPath(path, paths);

  useEffect(() => {
    if (path !== undefined && resolved !== undefined && resolved !== path) {
      navigate(
        routeHref({ screen: 'mappings', path: resolved, ...(messageId !== undefined ? { messageId } : {}) }),
        { replace: true },
      );
    }
  }, [path, resolved, messageId]);

  return (
    <section className="workbench" aria-labelledby="workbench-heading">
      <h1 id="workbench-heading">Mapping workbench</h1>
      {files.isPending ? <StatusPanel kind="loading" title="Listing the mapping files…" /> : null}
      {files.isError ? <ApiErrorNotice error={files.error} title="Could not list the mapping files" /> : null}
      {files.data !== undefined ? (
        <div className="workbench-grid">
          <div>
            <p className="note">Deployed set {files.data.version}</p>
            <MappingFileList files={files.data.files} selected={resolved} messageId={messageId} />
          </div>
          <div>
            {resolved !== undefined ? (
              <FileWorkspace
                key={resolved}
                path={resolved}
                entry={files.data.files.find((f) => f.path === resolved)}
                role={role}
                messageId={messageId}
              />
            ) : path !== undefined ? (
              <StatusPanel kind="error" title={`No mapping file ${path}`}>
                <p>Pick a file from the list.</p>
              </StatusPanel>
            ) : (
              <p className="note">
                Pick a file to edit
                {messageId !== undefined ? `; runs will use message ${messageId}` : ''}.
              </p>
            )}
          </div>
        </div>
      ) : null}
    </section>
  );
}
