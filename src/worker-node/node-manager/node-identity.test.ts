import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJwt, importJWK, jwtVerify } from "jose";
import { NODE_PROOF_AUDIENCE } from "../../contracts/node-payloads";
import { loadOrCreateNodeKey, NODE_KEY_FILE, nodeIdentityProof } from "./node-identity";

let dir: string;
beforeAll(async () => void (dir = await mkdtemp(join(tmpdir(), "node-key-"))));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("the node's identity key", () => {
  it("is made once, kept 0600 in the state dir, and the same key is read back", async () => {
    const stateDir = join(dir, "state");
    const made = await loadOrCreateNodeKey(stateDir);
    const file = join(stateDir, NODE_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, "utf8")).d).toBeString();
    const again = await loadOrCreateNodeKey(stateDir);
    expect(again.publicJwk).toEqual(made.publicJwk);
    expect(Object.keys(made.publicJwk).sort()).toEqual(["crv", "kty", "x", "y"]);
  });

  it("signs a one-time proof for the slug and Worker API URL that the public key verifies", async () => {
    const key = await loadOrCreateNodeKey(join(dir, "proof"));
    const now = new Date();
    const a = await nodeIdentityProof(key, { slug: "n1", workerApiUrl: "http://n1:12090", now });
    const b = await nodeIdentityProof(key, { slug: "n1", workerApiUrl: "http://n1:12090", now });
    const { payload } = await jwtVerify(a.proof, await importJWK({ ...a.public_key, alg: "ES256" }, "ES256"), {
      audience: NODE_PROOF_AUDIENCE,
      subject: "n1",
    });
    expect(payload.worker_api_url).toBe("http://n1:12090");
    expect(decodeJwt(b.proof).jti).not.toBe(payload.jti);
  });

  it("refuses a key file others can read, and one that is not a P-256 private key", async () => {
    const loose = join(dir, "loose");
    await loadOrCreateNodeKey(loose);
    await chmod(join(loose, NODE_KEY_FILE), 0o644);
    await expect(loadOrCreateNodeKey(loose)).rejects.toThrow("is readable by others (mode 644): chmod 600 it");

    const wrong = join(dir, "wrong");
    await loadOrCreateNodeKey(wrong);
    await writeFile(join(wrong, NODE_KEY_FILE), JSON.stringify({ kty: "oct", k: "x" }), { mode: 0o600 });
    await expect(loadOrCreateNodeKey(wrong)).rejects.toThrow("is not an EC P-256 private JWK");
  });
});
