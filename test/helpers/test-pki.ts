/**
 * A throwaway PKI for the mutual-TLS tests, made with `openssl` at test time in a temp directory,
 * so no checked-in certificate can expire and any subject or issuer a test needs can be issued
 * (the fixtures in test/fixtures/tls come without their CA's key). Keys are EC P-256; every
 * certificate is valid for two days.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface IssuedCert {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestPki {
  readonly dir: string;
  /** Creates a self-signed CA called `name` (also usable as a self-signed leaf). */
  createCa(name: string, subject: string): IssuedCert;
  /**
   * Issues a certificate signed by the CA `issuer` (an earlier createCa name).
   * @param subject - an openssl `-subj`, e.g. `/CN=GHH` or `/O=GHH` (no CN).
   */
  issue(
    name: string,
    o: { issuer: string; subject: string; usage: 'client' | 'server'; altNames?: string },
  ): IssuedCert;
  /** Deletes the directory. */
  remove(): void;
}

const DAYS = '2';

function openssl(args: readonly string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'care-pki-'));
  const files = (name: string): { certFile: string; keyFile: string } => ({
    certFile: join(dir, `${name}.pem`),
    keyFile: join(dir, `${name}-key.pem`),
  });
  const read = (name: string): IssuedCert => {
    const f = files(name);
    return { ...f, cert: readFileSync(f.certFile), key: readFileSync(f.keyFile) };
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  return {
    dir,
    createCa(name, subject) {
      const f = files(name);
      openssl([
        'req', '-x509', ...newKey, '-keyout', f.keyFile, '-out', f.certFile, '-days', DAYS, '-subj', subject,
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      ]); // prettier-ignore
      return read(name);
    },
    issue(name, o) {
      const f = files(name);
      const ca = files(o.issuer);
      const csr = join(dir, `${name}.csr`);
      const ext = join(dir, `${name}.ext`);
      openssl(['req', '-new', ...newKey, '-keyout', f.keyFile, '-out', csr, '-subj', o.subject]);
      writeFileSync(
        ext,
        [
          'basicConstraints=critical,CA:FALSE',
          'keyUsage=critical,digitalSignature',
          `extendedKeyUsage=${o.usage === 'client' ? 'clientAuth' : 'serverAuth'}`,
          ...(o.altNames !== undefined ? [`subjectAltName=${o.altNames}`] : []),
        ].join('\n') + '\n',
      );
      openssl([
        'x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial',
        `0x${randomBytes(8).toString('hex')}`, '-days', DAYS, '-extfile', ext, '-out', f.certFile,
      ]); // prettier-ignore
      return read(name);
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
