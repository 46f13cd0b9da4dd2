/**
 * The EHR's SMART capabilities (`<iss>/.well-known/smart-configuration`), read before authorising
 * only to choose the scope syntax it speaks. fhirclient reads the same document a moment later and
 * reports its errors, so a failure here just means "ask for both syntaxes".
 */

const DISCOVERY_TIMEOUT_MS = 5_000;

/** The `capabilities` the EHR advertises, or undefined when it cannot be read. */
export async function discoverCapabilities(
  iss: string,
  fetchImpl: typeof fetch = fetch,
): Promise<readonly string[] | undefined> {
  const url = `${iss.replace(/\/+$/, '')}/.well-known/smart-configuration`;
  try {
    const res = await fetchImpl(url, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
    });
    if (!res.ok) return undefined;
    const json: unknown = await res.json();
    const caps =
      typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['capabilities'] : [];
    return Array.isArray(caps) ? caps.filter((c): c is string => typeof c === 'string') : undefined;
  } catch {
    // Unreachable or not JSON: fhirclient's own discovery, right after, says why to the user.
    return undefined;
  }
}
