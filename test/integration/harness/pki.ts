import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Certificates made at test time with openssl (no key is ever committed). PEM text and paths. */
export interface TestPki {
  readonly dir: string;
  /** The test CA; Postfix gets it as smtp_tls_CAfile. */
  readonly caFile: string;
  /** A certificate for `relayName`, signed by the test CA: the "good" relay. */
  readonly good: { readonly key: string; readonly cert: string };
  /** Signed by the test CA but for another name: must fail the name check. */
  readonly wrongName: { readonly key: string; readonly cert: string };
  /** For `relayName` but self-signed: must fail verification. */
  readonly selfSigned: { readonly key: string; readonly cert: string };
  readonly relayName: string;
}

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Creates the CA and the three relay certificates in `dir` (about 0.1 s). */
export function makeTestPki(dir: string, relayName = 'smtp-relay.gmail.com'): TestPki {
  openssl(
    ['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=email-server test CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  const leaf = (name: string, cn: string, signer: 'ca' | 'self') => {
    const ext = join(dir, `${name}.ext`);
    writeFileSync(ext, `subjectAltName=DNS:${cn}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
    if (signer === 'self') {
      openssl(['req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`,
        '-addext', `subjectAltName=DNS:${cn}`], dir);
    } else {
      openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
        '-out', `${name}.crt`, '-extfile', ext], dir);
    }
    return { key: readFileSync(join(dir, `${name}.key`), 'utf8'), cert: readFileSync(join(dir, `${name}.crt`), 'utf8') };
  };
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    good: leaf('relay', relayName, 'ca'),
    wrongName: leaf('wrong-name', 'mx.wrong-name.example', 'ca'),
    selfSigned: leaf('self-signed', relayName, 'self'),
    relayName,
  };
}
