/**
 * Starts the HTTP server: plain HTTP for local use, HTTPS when HTTP_TLS_CERT/HTTP_TLS_KEY are set,
 * because the FHIR and admin APIs carry PHI wherever they cross a network.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Express } from 'express';

export interface HttpListenOptions {
  readonly host: string;
  readonly port: number;
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
}

/** Listens and resolves with the server once the port is bound. */
export async function listenHttp(app: Express, o: HttpListenOptions): Promise<http.Server> {
  const server =
    o.tls === undefined
      ? http.createServer(app)
      : https.createServer({ cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) }, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
