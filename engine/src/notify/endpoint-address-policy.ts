/**
 * SSRF protection for PCP endpoints: anyone who can register an Endpoint could otherwise make the
 * engine POST to the cloud metadata service, the database or an admin port inside the network.
 * Only public unicast addresses are reachable unless ENDPOINT_ALLOWED_HOSTS says otherwise, and the
 * check is made both at registration and at connect time, so DNS rebinding gains nothing.
 */
import dns from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { DeliveryError, DeliveryErrorCode } from './notify-error';

type IpAddress = ipaddr.IPv4 | ipaddr.IPv6;

/** What ENDPOINT_ALLOWED_HOSTS permits beyond public unicast addresses. */
export interface AddressPolicy {
  /** Host names (lower case, no trailing dot) allowed whatever they resolve to. */
  readonly hostnames: ReadonlySet<string>;
  /** Addresses and networks allowed although private, loopback or otherwise special. */
  readonly ranges: readonly (readonly [IpAddress, number])[];
}

/** Resolves a host name to every address it has, like `dns.promises.lookup(host, { all: true })`. */
export type ResolveHost = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver (getaddrinfo, so /etc/hosts counts), all addresses. */
export const resolveWithSystemDns: ResolveHost = (hostname) => dns.promises.lookup(hostname, { all: true });

/** A policy that allows nothing beyond public unicast addresses. */
export const PUBLIC_ONLY_POLICY: AddressPolicy = { hostnames: new Set(), ranges: [] };

// A DNS name: labels of letters, digits, `-` and `_` (service labels), at most 253 characters.
const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
// A last label that URL parsing would read as an IPv4 number (`10.0.0.300`, `0x7f`): not a name.
const NUMERIC_LABEL = /(?:^|\.)(?:\d+|0x[0-9a-f]*)$/;

/**
 * Parses ENDPOINT_ALLOWED_HOSTS: a comma list of host names, IP addresses and CIDRs
 * (`127.0.0.1, 10.0.0.0/8, ::1, receiver.internal`).
 * @param value - the setting; unset or blank allows only public unicast addresses.
 * @throws Error naming the first entry that is none of those.
 */
export function parseAllowedHosts(value: string | undefined): AddressPolicy {
  const hostnames = new Set<string>();
  const ranges: (readonly [IpAddress, number])[] = [];
  for (const raw of (value ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const range = parseRange(entry);
    if (range !== undefined) {
      ranges.push(range);
      continue;
    }
    const name = normaliseHostname(entry);
    if (!HOSTNAME.test(name) || NUMERIC_LABEL.test(name)) {
      throw new Error(
        `ENDPOINT_ALLOWED_HOSTS: "${entry}" is not a host name, an IP address or a CIDR (e.g. 10.0.0.0/8)`,
      );
    }
    hostnames.add(name);
  }
  return { hostnames, ranges };
}

/** An IP address or CIDR entry as a network; IPv4-mapped IPv6 forms become IPv4 so they match. */
function parseRange(entry: string): readonly [IpAddress, number] | undefined {
  const text = entry.startsWith('[') && entry.endsWith(']') ? entry.slice(1, -1) : entry;
  let range: [IpAddress, number];
  if (text.includes('/')) {
    if (!ipaddr.isValidCIDR(text)) return undefined;
    if (text.includes('.') && !text.includes(':') && !ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) {
      return undefined;
    }
    range = ipaddr.parseCIDR(text);
  } else {
    if (!isStrictIp(text)) return undefined;
    const address = ipaddr.parse(text);
    range = [address, address.kind() === 'ipv4' ? 32 : 128];
  }
  const [address, bits] = range;
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() && bits >= 96) {
    return [address.toIPv4Address(), bits - 96];
  }
  return range;
}

/** Four-part dotted IPv4 or IPv6 only: `127.1` and `2130706433` are legal to ipaddr but confusing. */
function isStrictIp(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text) || ipaddr.IPv6.isValid(text);
}

/** Host names compare in lower case without the root's trailing dot (`Receiver.Internal.`). */
function normaliseHostname(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/** The host of a URL without IPv6 brackets, as `net.isIP` and the policy expect it. */
export function urlHost(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** True when the policy names this host, which then may resolve to anything. */
export function isHostnameAllowed(hostname: string, policy: AddressPolicy): boolean {
  return policy.hostnames.has(normaliseHostname(hostname));
}

/**
 * Whether the engine may connect to this address: public unicast ones yes; loopback, private,
 * link-local (the 169.254.169.254 metadata service), unique-local, carrier-grade NAT, multicast,
 * broadcast, unspecified, reserved and the IPv6 forms that embed an IPv4 address (mapped, NAT64,
 * 6to4, Teredo) no, unless an allowed address or CIDR contains it.
 * @param ip - an IPv4 or IPv6 address as text; anything else is refused.
 * @param policy - from `parseAllowedHosts`.
 */
export function isAddressAllowed(ip: string, policy: AddressPolicy): boolean {
  if (!isStrictIp(ip)) return false;
  const original = ipaddr.parse(ip);
  // `::ffff:127.0.0.1` reaches 127.0.0.1, so it is judged (and matched) as that address.
  const address = ipaddr.process(ip);
  if (policy.ranges.some((range) => inRange(address, range) || inRange(original, range))) return true;
  if (address instanceof ipaddr.IPv6 && isIpv4Compatible(address)) return false;
  return address.range() === 'unicast';
}

function inRange(address: IpAddress, [network, bits]: readonly [IpAddress, number]): boolean {
  return address.kind() === network.kind() && address.match(network, bits);
}

/** `::a.b.c.d` (deprecated IPv4-compatible form, ::/96): ipaddr calls it unicast, some stacks map it. */
function isIpv4Compatible(address: ipaddr.IPv6): boolean {
  return address.parts.slice(0, 6).every((part) => part === 0);
}

/** Outcome of checking an endpoint address at registration. */
export type EndpointUrlCheck = { ok: true } | { ok: false; reason: string };

/**
 * Registration-time check of an endpoint address, so a bad one is refused to the person
 * registering it rather than failing every delivery later. Delivery checks again at connect time.
 * @param url - the Endpoint.address.
 * @param policy - from `parseAllowedHosts`.
 * @param resolve - the resolver; every address a name resolves to must be allowed.
 */
export async function checkEndpointUrl(
  url: string,
  policy: AddressPolicy,
  resolve: ResolveHost = resolveWithSystemDns,
): Promise<EndpointUrlCheck> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, reason: 'not a valid absolute URL' };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return { ok: false, reason: `scheme ${parsed.protocol} is not allowed (use https: or http:)` };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { ok: false, reason: 'credentials in the URL are not allowed' };
  }
  const host = urlHost(parsed);
  if (isIP(host) !== 0) {
    return isAddressAllowed(host, policy) ? { ok: true } : { ok: false, reason: refusedReason(host) };
  }
  if (isHostnameAllowed(host, policy)) return { ok: true };
  let addresses: readonly LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    return { ok: false, reason: `host ${host} could not be resolved (${errorCode(err)})` };
  }
  if (addresses.length === 0) return { ok: false, reason: `host ${host} has no address` };
  const refused = addresses.find((a) => !isAddressAllowed(a.address, policy));
  if (refused !== undefined) return { ok: false, reason: `host ${host}: ${refusedReason(refused.address)}` };
  return { ok: true };
}

function refusedReason(ip: string): string {
  return `address ${ip} is not public (private, loopback, link-local or reserved); allow it in ENDPOINT_ALLOWED_HOSTS`;
}

function errorCode(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return typeof code === 'string' ? code : 'lookup failed';
}

/**
 * A `lookup` for `http.request`/`net.connect` that refuses to hand over an address the policy does
 * not allow, so the check holds for the address actually connected to (a name that resolved to a
 * public address at registration and to 127.0.0.1 now fails here). A name resolving to several
 * addresses is refused if any one is not allowed: with happy eyeballs Node may try any of them.
 * Node does not call `lookup` for an IP-literal host; callers check those with `isAddressAllowed`.
 * @param policy - from `parseAllowedHosts`; host names it lists are allowed whatever they resolve to.
 * @param resolve - the resolver.
 */
export function guardedLookup(
  policy: AddressPolicy,
  resolve: ResolveHost = resolveWithSystemDns,
): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    resolve(hostname).then(
      (all) => {
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const addresses = family === 4 || family === 6 ? all.filter((a) => a.family === family) : [...all];
        const first = addresses[0];
        if (first === undefined) {
          callback(
            new DeliveryError(
              DeliveryErrorCode.EndpointUnreachable,
              `host ${hostname} has no usable address`,
            ),
            '',
          );
          return;
        }
        if (!isHostnameAllowed(hostname, policy)) {
          const refused = addresses.find((a) => !isAddressAllowed(a.address, policy));
          if (refused !== undefined) {
            callback(
              new DeliveryError(
                DeliveryErrorCode.EndpointRefused,
                `host ${hostname}: ${refusedReason(refused.address)}`,
              ),
              '',
            );
            return;
          }
        }
        if (options.all === true) callback(null, addresses);
        else callback(null, first.address, first.family);
      },
      (err: unknown) => {
        callback(
          new DeliveryError(
            DeliveryErrorCode.EndpointUnreachable,
            `host ${hostname} could not be resolved (${errorCode(err)})`,
            { cause: err },
          ),
          '',
        );
      },
    );
  };
}
