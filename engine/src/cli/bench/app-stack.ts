/**
 * The SMART app's whole world on loopback, for its end-to-end tests and its benchmark: sandbox
 * EHRs that launch `<engine>/app/launch.html` and redirect to `<engine>/app/`, and an engine
 * that trusts them through an EHR_ISSUERS_FILE. Each side needs the other's URL before it starts,
 * so the engine's port is chosen first; how the engine is started is the caller's (the tests'
 * helper, or the benchmark's target), given the settings that wire it up.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DemoPatient } from '../sandbox-ehr/demo-patients';
import { DEMO_PRACTITIONER } from '../sandbox-ehr/demo-patients';
import { startSandboxEhr, type SandboxEhr } from '../sandbox-ehr/sandbox-ehr';

/** The client id the engine's `/app/config.json` names by default (SMART_APP_CLIENT_ID). */
export const APP_CLIENT_ID = 'care-timeline';

/** One sandbox EHR of the stack. */
export interface StackEhrSpec {
  /** @defaultValue 3600 */
  readonly accessTokenLifetimeSec?: number;
  /** @defaultValue 28800 */
  readonly refreshTokenLifetimeSec?: number;
}

export interface AppStackOptions<E> {
  readonly patients: readonly DemoPatient[];
  /** The EHRs, in order; each is trusted by the engine. */
  readonly ehrs: readonly StackEhrSpec[];
  /** Starts the engine with these settings added to its own. */
  readonly startEngine: (settings: Readonly<Record<string, string>>) => Promise<E>;
}

export interface AppStack<E> {
  readonly engine: E;
  /** `http://127.0.0.1:<port>`: PUBLIC_URL. */
  readonly engineUrl: string;
  /** `<engine>/app/`. */
  readonly appUrl: string;
  readonly ehrs: readonly SandboxEhr[];
  /** Closes the EHRs and removes the issuers file; the engine is the caller's to stop. */
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts the sandbox EHRs, then the engine trusting them.
 * @param o - the people, the EHRs and how to start the engine.
 */
export async function startAppStack<E>(o: AppStackOptions<E>): Promise<AppStack<E>> {
  const port = await freePort();
  const engineUrl = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'care-app-stack-'));
  const ehrs: SandboxEhr[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(ehrs.map((e) => e.close()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const issuers: unknown[] = [];
    for (const spec of o.ehrs) {
      const secret = randomBytes(24).toString('base64url');
      const ehr = await startSandboxEhr({
        port: 0,
        appLaunchUrl: `${engineUrl}/app/launch.html`,
        appRedirectUris: [`${engineUrl}/app/`],
        clientId: APP_CLIENT_ID,
        patients: o.patients,
        practitioner: DEMO_PRACTITIONER,
        introspectionClients: [
          { method: 'client_secret_basic', clientId: 'care-engine', clientSecret: secret },
        ],
        ...(spec.accessTokenLifetimeSec !== undefined
          ? { accessTokenLifetimeSec: spec.accessTokenLifetimeSec }
          : {}),
        ...(spec.refreshTokenLifetimeSec !== undefined
          ? { refreshTokenLifetimeSec: spec.refreshTokenLifetimeSec }
          : {}),
      });
      ehrs.push(ehr);
      issuers.push({
        iss: ehr.iss,
        introspection_auth: {
          method: 'client_secret_basic',
          client_id: 'care-engine',
          client_secret: secret,
        },
      });
    }
    const issuersFile = join(dir, 'ehr-issuers.json');
    writeFileSync(issuersFile, JSON.stringify(issuers), { mode: 0o600 });
    const engine = await o.startEngine({
      HTTP_PORT: String(port),
      HTTP_HOST: '127.0.0.1',
      PUBLIC_URL: engineUrl,
      EHR_ISSUERS_FILE: issuersFile,
      SMART_APP_CLIENT_ID: APP_CLIENT_ID,
    });
    return { engine, engineUrl, appUrl: `${engineUrl}/app/`, ehrs, close };
  } catch (err) {
    await close();
    throw err;
  }
}
