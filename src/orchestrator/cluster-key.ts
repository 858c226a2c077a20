/**
 * Several orchestrators on one database (a cluster, ARCHITECTURE decision 16) must share ORCHESTRATOR_SECRET_KEY:
 * each seals node tokens the others open. The first to start writes a check value sealed with its key; one whose
 * key cannot open it (or, on a database from before the check, an existing node token) refuses to start.
 */
import type { SecretBox } from "./auth/secret-box";
import { readClusterSetting, recordClusterSettingOnce } from "./db/cluster-settings";
import type { Db } from "./db/connect";
import { anySealedWorkerToken } from "./db/nodes";

export const KEY_CHECK_SETTING = "secret_key_check";
const KEY_CHECK_PLAIN = "cynodeai cluster secret key check v1";

export const KEY_MISMATCH =
  "ORCHESTRATOR_SECRET_KEY does not open the secrets other orchestrators keep in this database: every orchestrator " +
  "on one DATABASE_URL needs the same ORCHESTRATOR_SECRET_KEY (and JWT_SECRET, NODE_REGISTRATION_PSK); " +
  'see "Running several orchestrators" in the README';

const opens = (secrets: SecretBox, sealed: string, plain?: string): boolean => {
  try {
    const opened = secrets.open(sealed);
    return plain === undefined || opened === plain;
  } catch {
    return false;
  }
};

/** Throws KEY_MISMATCH unless this orchestrator's key is the cluster's; records the check value when first. */
export async function verifyClusterKey(db: Db, secrets: SecretBox): Promise<"recorded" | "verified"> {
  let check = await readClusterSetting(db, KEY_CHECK_SETTING);
  if (check === undefined) {
    const sealedToken = await anySealedWorkerToken(db);
    if (sealedToken && !opens(secrets, sealedToken)) throw new Error(KEY_MISMATCH);
    if (await recordClusterSettingOnce(db, KEY_CHECK_SETTING, secrets.seal(KEY_CHECK_PLAIN))) return "recorded";
    check = await readClusterSetting(db, KEY_CHECK_SETTING); // another orchestrator recorded its check first
  }
  if (check === undefined || !opens(secrets, check, KEY_CHECK_PLAIN)) throw new Error(KEY_MISMATCH);
  return "verified";
}
