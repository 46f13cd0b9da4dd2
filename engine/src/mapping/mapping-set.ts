/**
 * A loaded set of compiled mappings and the lookup by message type, trigger event and sender,
 * with sender overrides taking precedence over the base mappings.
 */
import type { CompiledMapping, MappingKey, MappingSet } from './mapping-types';

function indexByEvent(mappings: readonly CompiledMapping[]): Map<string, CompiledMapping> {
  const index = new Map<string, CompiledMapping>();
  for (const m of mappings) for (const e of m.events) index.set(`${m.messageType}^${e}`, m);
  return index;
}

/**
 * Builds the set; `senders` maps a sender directory name to its specialised mappings, and
 * `timezones` a sender directory name to the zone of its `sender.yaml`.
 */
export function createMappingSet(
  version: string,
  base: readonly CompiledMapping[],
  senders: ReadonlyMap<string, readonly CompiledMapping[]>,
  timezones: ReadonlyMap<string, string> = new Map(),
): MappingSet {
  const baseIndex = indexByEvent(base);
  const senderIndex = new Map([...senders].map(([name, ms]) => [name, indexByEvent(ms)]));
  return {
    version,
    mappings: [...base, ...[...senders.values()].flat()],
    senders: [...senders.keys()],
    timezones,
    findMapping(key: MappingKey): CompiledMapping | undefined {
      const event = `${key.messageType}^${key.triggerEvent}`;
      for (const sender of [key.sender, key.sendingFacility]) {
        const found = sender !== undefined ? senderIndex.get(sender)?.get(event) : undefined;
        if (found !== undefined) return found;
      }
      return baseIndex.get(event);
    },
    findTimezone(key: MappingKey): string | undefined {
      for (const sender of [key.sender, key.sendingFacility]) {
        const zone = sender !== undefined ? timezones.get(sender) : undefined;
        if (zone !== undefined) return zone;
      }
      return undefined;
    },
  };
}
