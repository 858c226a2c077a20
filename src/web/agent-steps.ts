/** An agent job's record (`sba_result`) read from the job's stored result text; none for other jobs. */
import * as v from "valibot";
import { SbaResult } from "../contracts/sba";

const WithRecord = v.object({ sba_result: SbaResult });

export function agentRecord(result: string | undefined): SbaResult | undefined {
  if (result === undefined) return undefined;
  try {
    const parsed = v.safeParse(WithRecord, JSON.parse(result));
    return parsed.success ? parsed.output.sba_result : undefined;
  } catch {
    return undefined;
  }
}
