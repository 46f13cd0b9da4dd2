/** fhirclient imports `cross-fetch` for old browsers; every browser the app supports has fetch. */
export default globalThis.fetch.bind(globalThis);
export const Headers = globalThis.Headers;
export const Request = globalThis.Request;
export const Response = globalThis.Response;
