/**
 * `--tls auto`: the orchestrator's own cluster CA (ECDSA P-256, made once in `<state>/tls`, key 0600) and the
 * certificates it issues: the listeners' (SANs: localhost, loopback, the host name, the public host) and, from a
 * node's CSR, that node's Worker API certificate. Pure WebCrypto, so it runs inside the compiled binary.
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import * as x509 from "../../lib/x509";
import type { TlsFiles } from "../../lib/serve";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const LEAF_DAYS = 365;

export type ClusterCa = {
  pem: string;
  /** A certificate for `hosts` (DNS names or IP addresses) and a fresh key, both PEM. */
  issueServer(hosts: string[]): Promise<TlsFiles>;
  /** Signs a node's CSR (its key stays on the node) for `hosts`; answers the certificate PEM. */
  signRequest(csrPem: string, hosts: string[]): Promise<string>;
};

const pemKey = async (key: CryptoKey) =>
  x509.PemConverter.encode(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
const importKey = (pem: string) =>
  crypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(pem), ALG, true, ["sign"]);
const serial = () => `01${Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString("hex")}`;

const altNames = (hosts: string[]) =>
  new x509.SubjectAlternativeNameExtension(
    [...new Set(hosts.filter(Boolean))].map((h) => ({ type: isIP(h) ? "ip" : "dns", value: h })),
  );

async function writeSecret(path: string, text: string): Promise<void> {
  await writeFile(path, text, { mode: 0o600 });
  await chmod(path, 0o600);
}

async function createCa(dir: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: "CN=CyNodeAI cluster CA",
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + CA_DAYS * DAY_MS),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  await writeSecret(join(dir, "ca.key"), await pemKey(keys.privateKey));
  await writeFile(join(dir, "ca.pem"), cert.toString("pem"));
  return { cert, key: keys.privateKey };
}

async function loadCa(dir: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey } | undefined> {
  const [certPem, keyPem] = await Promise.all(
    ["ca.pem", "ca.key"].map((f) => readFile(join(dir, f), "utf8").catch(() => undefined)),
  );
  if (!certPem || !keyPem) return undefined;
  return { cert: new x509.X509Certificate(certPem), key: await importKey(keyPem) };
}

/** The cluster CA of `stateDir`, made on first use and reused after. */
export async function openClusterCa(stateDir: string): Promise<ClusterCa> {
  const dir = join(stateDir, "tls");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = (await loadCa(dir)) ?? (await createCa(dir));
  const issue = async (subject: string, publicKey: x509.PublicKeyType, hosts: string[]) => {
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: ca.cert.subject,
      notBefore: new Date(now - DAY_MS),
      notAfter: new Date(now + LEAF_DAYS * DAY_MS),
      signingAlgorithm: ALG,
      publicKey,
      signingKey: ca.key,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        altNames(hosts),
      ],
    });
    return cert.toString("pem");
  };
  return {
    pem: ca.cert.toString("pem"),
    async issueServer(hosts) {
      const keys = await crypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
      const cert = await issue("CN=CyNodeAI orchestrator", keys.publicKey, hosts);
      const key = await pemKey(keys.privateKey);
      await writeSecret(join(dir, "server.key"), key);
      await writeFile(join(dir, "server.pem"), cert);
      return { cert, key };
    },
    async signRequest(csrPem, hosts) {
      const csr = new x509.Pkcs10CertificateRequest(csrPem);
      if (!(await csr.verify())) throw new Error("the certificate request's signature does not verify");
      return issue("CN=CyNodeAI worker node", csr.publicKey, hosts);
    },
  };
}
