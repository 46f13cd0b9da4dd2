/** The DOM id of a timeline item, so the attention list can link to it (`#ev-Encounter-123`). */
export function eventDomId(resource: string): string {
  return `ev-${resource.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}
