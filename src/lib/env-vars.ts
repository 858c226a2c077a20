/** valibot pieces for configuration read from environment variables (strings), shared by every executable. */
import * as v from "valibot";
import { parseDuration } from "./duration";
import { LOG_LEVELS } from "./log";
import { parseListenAddress } from "./serve";

/** Whether `parse` accepts `s` (for a check before the transform that uses the same parser). */
export const parses = (parse: (s: string) => unknown) => (s: string) => {
  try {
    parse(s);
    return true;
  } catch {
    return false;
  }
};

/** A positive Go-style duration (`30s`, `15m`, `168h`) as milliseconds. */
export const durationVar = (def: string) =>
  v.pipe(
    v.optional(v.string(), def),
    v.check((s) => parses(parseDuration)(s) && parseDuration(s) > 0, "must be a duration such as 30s, 15m or 168h"),
    v.transform(parseDuration),
  );

export const wholeNumberVar = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  v.pipe(
    v.optional(v.string(), String(def)),
    v.regex(/^\d+$/, "must be a whole number"),
    v.transform(Number),
    v.minValue(min),
    v.maxValue(max),
  );

export const listenVar = (def: string) =>
  v.pipe(
    v.optional(v.string(), def),
    v.check(parses(parseListenAddress), "must be [host]:port"),
    v.transform(parseListenAddress),
  );

export const logLevelVar = v.optional(v.picklist(LOG_LEVELS), "info");
