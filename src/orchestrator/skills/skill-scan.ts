/**
 * The content scan every skill write goes through (reference-agents 3.2): the first match wins and refuses the
 * write. Hidden instructions (an HTML comment with text), instruction overrides and secret bypasses, matched
 * case-insensitively; the trigger is the matched text as written. Zero-width and other invisible characters count
 * as hidden instructions too (the spec's addition).
 */
import type { PolicyViolation } from "../../contracts/skills";

const OVERRIDES = [
  "ignore previous instructions",
  "ignore all previous",
  "ignore the above",
  "disregard previous",
  "disregard the above",
  "forget previous instructions",
  "override your instructions",
  "override previous",
  "ignore your instructions",
  "ignore system prompt",
  "ignore the system prompt",
  "disregard system prompt",
  "you are now",
  "new instructions",
  "developer message",
  "jailbreak",
];

const BYPASSES = [
  "output the user's api key",
  "reveal the api key",
  "show the api key",
  "ignore previous safety",
  "ignore safety guidelines",
  "bypass security",
  "ignore access controls",
  "output your instructions",
  "print your system prompt",
  "reveal your prompt",
];

const INVISIBLE = /[\u200b-\u200f\u2060-\u2064\ufeff]/;

function phrase(content: string, phrases: string[]): string | undefined {
  const lower = content.toLowerCase();
  for (const p of phrases) {
    const at = lower.indexOf(p);
    if (at >= 0) return content.slice(at, at + p.length);
  }
  return undefined;
}

function hidden(content: string): string | undefined {
  for (const m of content.matchAll(/<!--([\s\S]*?)-->/g)) if (m[1]!.trim()) return `<!--${m[1]!.trim()}-->`;
  return INVISIBLE.exec(content)?.[0];
}

/** The policy violation in `content`, or undefined when it may be stored. */
export function scanSkill(content: string): PolicyViolation | undefined {
  const found: [PolicyViolation["category"], string | undefined][] = [
    ["hidden_instructions", hidden(content)],
    ["instruction_override", phrase(content, OVERRIDES)],
    ["secret_bypass", phrase(content, BYPASSES)],
  ];
  const hit = found.find(([, text]) => text !== undefined);
  return hit && { error: "policy violation", category: hit[0], triggering_text: hit[1]! };
}
