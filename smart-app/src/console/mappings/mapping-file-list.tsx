/** The mapping set's files by kind (mappings, shared rules, code tables), each with its deployed version. */
import type { ReactElement } from 'react';
import type { MappingFileEntry, MappingFileKind } from '../api/mapping-types';
import { RouteLink } from '../routing/console-navigation';
import { routeHref } from '../routing/console-route';

const KINDS: readonly { readonly kind: MappingFileKind; readonly title: string }[] = [
  { kind: 'mapping', title: 'Mappings' },
  { kind: 'rules', title: 'Rule files' },
  { kind: 'codes', title: 'Code tables' },
  { kind: 'other', title: 'Other' },
];

export interface MappingFileListProps {
  readonly files: readonly MappingFileEntry[];
  readonly selected: string | undefined;
  readonly messageId: string | undefined;
}

export function MappingFileList({ files, selected, messageId }: MappingFileListProps): ReactElement {
  return (
    <nav className="file-list" aria-label="Mapping files">
      {KINDS.map(({ kind, title }) => {
        const ofKind = files.filter((f) => f.kind === kind);
        if (ofKind.length === 0) return null;
        return (
          <div key={kind}>
            <h2>{title}</h2>
            <ul>
              {ofKind.map((f) => (
                <li key={f.path}>
                  <RouteLink
                    href={routeHref({
                      screen: 'mappings',
                      path: f.path,
                      ...(messageId !== undefined ? { messageId } : {}),
                    })}
                    {...(f.path === selected ? { 'aria-current': 'page' as const } : {})}
                  >
                    {f.path}
                  </RouteLink>
                  {f.deployed !== undefined ? <span className="muted"> v{f.deployed.version}</span> : null}
                </li>
              ))}
            </ul>
          </div>
        );
      })}
    </nav>
  );
}
