/** fhirclient imports `isomorphic-webcrypto` for old browsers; a secure context has `crypto`. */
export default globalThis.crypto;
