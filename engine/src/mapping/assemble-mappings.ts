/**
 * Puts parsed files together: resolves includes, stacks sender overrides on the base rules
 * (replace or extend by rule name) and compiles one mapping per file and sender.
 */
import path from 'node:path';
import type { CompileContext } from './compile-context';
import { compileMapping } from './compile-mapping';
import type { IgnoredSegment, MappingSource } from './compile-mapping';
import { MappingErrorCode } from './mapping-error';
import type { UnavailableRules } from './compile-rule';
import type { CompiledMapping } from './mapping-types';
import type { ParsedMappingFile } from './parse-mapping-file';
import type { RawMappingFile, RawOrigin, RawResourceEntry } from './raw-mapping';

type Report = (code: MappingErrorCode, message: string, origin: RawOrigin, rule?: string) => void;

/** The compiled base mappings and, per sender directory, its specialised mappings. */
export interface AssembledMappings {
  readonly base: CompiledMapping[];
  readonly senders: Map<string, CompiledMapping[]>;
}

/** Collects what failed files would have defined, as resourcesOf walks the includes. */
class Unavailable implements UnavailableRules {
  readonly names = new Set<string>();
  unknown = false;

  note(parsed: ParsedMappingFile | undefined): void {
    if (parsed?.failedRuleNames === undefined) this.unknown = true;
    else for (const n of parsed.failedRuleNames) this.names.add(n);
  }

  /** This and another's, for a sender mapping (its own files and its base's). */
  with(other: Unavailable): Unavailable {
    const both = new Unavailable();
    for (const n of [...this.names, ...other.names]) both.names.add(n);
    both.unknown = this.unknown || other.unknown;
    return both;
  }
}

function resourcesOf(
  rel: string,
  files: ReadonlyMap<string, ParsedMappingFile>,
  report: Report,
  unavailable: Unavailable,
  stack: readonly string[] = [],
): Map<string, RawResourceEntry[]> {
  const parsed = files.get(rel);
  const out = new Map<string, RawResourceEntry[]>();
  if (parsed?.data === undefined) {
    unavailable.note(parsed);
    return out;
  }
  (parsed.data.include ?? []).forEach((inc, i) => {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(rel), inc));
    const origin = { file: parsed.file, pointer: ['include', i] };
    if (!files.has(target)) {
      unavailable.unknown = true;
      return report(MappingErrorCode.MissingInclude, `included file "${inc}" does not exist`, origin);
    }
    if (stack.includes(target)) {
      return report(
        MappingErrorCode.MissingInclude,
        `"${inc}" includes itself (${[...stack, target].join(' -> ')})`,
        origin,
      );
    }
    for (const [name, entry] of resourcesOf(target, files, report, unavailable, [...stack, rel])) {
      out.set(name, entry);
    }
  });
  const seen = new Set<string>();
  (parsed.data.resources ?? []).forEach((raw, i) => {
    const origin = { file: parsed.file, pointer: ['resources', i] };
    if (seen.has(raw.name)) {
      report(
        MappingErrorCode.DuplicateRule,
        `resource rule "${raw.name}" is defined twice in this file`,
        origin,
        raw.name,
      );
    }
    seen.add(raw.name);
    const below = out.get(raw.name);
    out.set(
      raw.name,
      raw.mode === 'extend' && below !== undefined ? [...below, { raw, origin }] : [{ raw, origin }],
    );
  });
  return out;
}

function sourceOf(
  file: string,
  data: RawMappingFile,
  events: readonly string[],
  resources: (readonly RawResourceEntry[])[],
  unavailable: Unavailable,
  ignoreSegments: readonly IgnoredSegment[],
  sender?: string,
): MappingSource {
  return {
    file,
    messageType: data.messageType ?? '',
    events,
    resources,
    ...(data.ignore !== undefined ? { ignore: data.ignore } : {}),
    unavailable,
    ignoreSegments,
    ...(sender !== undefined ? { sender } : {}),
    ...(data.eventTime !== undefined
      ? { eventTime: { rules: data.eventTime, origin: { file, pointer: [] } } }
      : {}),
  };
}

/** A file's `ignoreSegments:` entries, each with its own line. */
function ignoresOf(parsed: ParsedMappingFile): IgnoredSegment[] {
  return Object.entries(parsed.data?.ignoreSegments ?? {}).map(([name, reason]) => ({
    name,
    reason,
    origin: { file: parsed.file, pointer: ['ignoreSegments', name] },
  }));
}

function layered(
  base: Map<string, RawResourceEntry[]>,
  overrides: Map<string, RawResourceEntry[]>,
): RawResourceEntry[][] {
  const layers = new Map(base);
  for (const [name, entries] of overrides) {
    const existing = layers.get(name);
    layers.set(
      name,
      entries[0]?.raw.mode === 'extend' && existing !== undefined ? [...existing, ...entries] : entries,
    );
  }
  return [...layers.values()];
}

/**
 * A file that ignores its events maps nothing, so rules in it would be dead text an analyst
 * might believe runs: refused, naming what to remove.
 */
function reportIgnoredContent(file: string, data: RawMappingFile, report: Report): void {
  if (data.ignore === undefined) return;
  for (const key of ['include', 'eventTime', 'resources'] as const) {
    if (data[key] === undefined) continue;
    report(
      MappingErrorCode.SchemaViolation,
      `a file with ignore: maps nothing, so its ${key}: would never run; remove one of the two`,
      { file, pointer: [key] },
    );
  }
}

/** Compiles every base mapping file and every sender override. */
export function assembleMappings(
  files: ReadonlyMap<string, ParsedMappingFile>,
  ctxFor: (sender: string) => CompileContext,
  report: Report,
): AssembledMappings {
  const base: CompiledMapping[] = [];
  const baseSources: {
    rel: string;
    data: RawMappingFile;
    resources: Map<string, RawResourceEntry[]>;
    unavailable: Unavailable;
    ignored: readonly IgnoredSegment[];
  }[] = [];
  const covered = new Map<string, string>();
  for (const [rel, parsed] of files) {
    const data = parsed.data;
    if (data !== undefined && data.messageType === undefined && data.ignoreSegments !== undefined) {
      // A rule file is shared by mappings of several message types: what to ignore is theirs to say.
      report(
        MappingErrorCode.SchemaViolation,
        'ignoreSegments: belongs in a mapping file (one with messageType:)',
        {
          file: parsed.file,
          pointer: ['ignoreSegments'],
        },
      );
    }
    if (rel.includes('/') || data?.messageType === undefined) continue;
    if (data.events === undefined) {
      report(MappingErrorCode.SchemaViolation, 'a mapping file needs events:', {
        file: parsed.file,
        pointer: ['messageType'],
      });
    }
    for (const e of data.events ?? []) {
      const key = `${data.messageType}^${e}`;
      const other = covered.get(key);
      if (other !== undefined) {
        report(MappingErrorCode.DuplicateRule, `${key} is already mapped by ${other}`, {
          file: parsed.file,
          pointer: ['events'],
        });
      }
      covered.set(key, parsed.file);
    }
    reportIgnoredContent(parsed.file, data, report);
    const unavailable = new Unavailable();
    const resources = resourcesOf(rel, files, report, unavailable);
    const ignored = ignoresOf(parsed);
    baseSources.push({ rel, data, resources, unavailable, ignored });
    base.push(
      compileMapping(
        sourceOf(parsed.file, data, data.events ?? [], [...resources.values()], unavailable, ignored),
        ctxFor(''),
      ),
    );
  }
  const senders = new Map<string, CompiledMapping[]>();
  for (const [rel, parsed] of files) {
    const m = /^senders\/([^/]+)\/[^/]+\.ya?ml$/.exec(rel);
    const data = parsed.data;
    if (!m || data?.messageType === undefined) continue;
    const sender = m[1] ?? '';
    reportIgnoredContent(parsed.file, data, report);
    const own = new Unavailable();
    const overrides = resourcesOf(rel, files, report, own);
    for (const b of baseSources.filter((s) => s.data.messageType === data.messageType)) {
      const events = (b.data.events ?? []).filter(
        (e) => data.events === undefined || data.events.includes(e),
      );
      if (events.length === 0) continue;
      const merged = { ...b.data, ...data };
      const compiled = compileMapping(
        sourceOf(
          parsed.file,
          merged,
          events,
          layered(b.resources, overrides),
          own.with(b.unavailable),
          [...b.ignored, ...ignoresOf(parsed)],
          sender,
        ),
        ctxFor(sender),
      );
      senders.set(sender, [...(senders.get(sender) ?? []), compiled]);
    }
  }
  return { base, senders };
}
