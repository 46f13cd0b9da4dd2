/**
 * The workbench's requests for one file: dry run and golden tests with the editor's text
 * overlaid on the deployed set, and deploy with the etag the file was opened at (so a deploy
 * never silently overwrites a colleague's).
 */
import { useMutation, useQueryClient, type UseMutationResult } from '@tanstack/react-query';
import { useApi } from '../api/api-context';
import type { DeployResult, DryRunAnswer, DryRunMessages, GoldenTestAnswer } from '../api/mapping-types';
import { encodeMappingPath } from '../routing/console-route';

export interface WorkbenchActions {
  readonly dryRun: UseMutationResult<DryRunAnswer, Error, { text: string; messages: DryRunMessages }>;
  readonly goldenTests: UseMutationResult<GoldenTestAnswer, Error, { text: string }>;
  readonly deploy: UseMutationResult<DeployResult, Error, { text: string; etag: string }>;
}

export function useWorkbenchActions(path: string): WorkbenchActions {
  const api = useApi();
  const client = useQueryClient();
  const dryRun = useMutation({
    mutationFn: async (o: { text: string; messages: DryRunMessages }) =>
      (
        await api.request<DryRunAnswer>('POST', '/api/mappings/dry-run', {
          body: { files: { [path]: o.text }, messages: o.messages },
        })
      ).body,
  });
  const goldenTests = useMutation({
    mutationFn: async (o: { text: string }) =>
      (
        await api.request<GoldenTestAnswer>('POST', '/api/mappings/test', {
          body: { files: { [path]: o.text } },
        })
      ).body,
  });
  const deploy = useMutation({
    mutationFn: async (o: { text: string; etag: string }) =>
      (
        await api.request<DeployResult>('PUT', `/api/mappings/${encodeMappingPath(path)}`, {
          body: { content: o.text },
          headers: { 'if-match': o.etag },
        })
      ).body,
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: ['mappings'] });
      await client.invalidateQueries({ queryKey: ['mapping-versions', path] });
    },
  });
  return { dryRun, goldenTests, deploy };
}
