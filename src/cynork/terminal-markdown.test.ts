import { describe, expect, it } from "bun:test";
import { markdownLines, markdownWriter } from "./terminal-markdown";

const reply = ["# Plan", "Use **strong** words and `code`.", "- one", "  * two", "```sh", "echo **hi**", "```", "end"];

describe("markdownLines", () => {
  it("renders ASCII without colour: the markup goes, list items keep a dash, code is indented", () => {
    const render = markdownLines(false);
    expect(reply.map(render)).toEqual([
      "Plan",
      "Use strong words and code.",
      "- one",
      "  - two",
      undefined,
      "    echo **hi**",
      undefined,
      "end",
    ]);
  });

  it("renders headings and strong text bold and code cyan in colour", () => {
    const render = markdownLines(true);
    expect(render("## Plan ##")).toBe("\u001b[1mPlan\u001b[0m");
    expect(render("a **b** `c`")).toBe("a \u001b[1mb\u001b[0m \u001b[36mc\u001b[0m");
    expect(render("- x")).toBe("• x");
    expect(render("plain text")).toBe("plain text");
  });
});

describe("markdownWriter", () => {
  it("renders lines as they complete across pieces, and ends the reply with one newline as --plain does", () => {
    let out = "";
    const w = markdownWriter((s) => void (out += s), false);
    w.write("**a");
    expect(out).toBe("");
    w.write("** b\nc");
    expect(out).toBe("a b\n");
    w.end();
    expect(out).toBe("a b\nc\n");
    const trailing = markdownWriter((s) => void (out = s), false);
    trailing.end();
    expect(out).toBe("\n");
  });
});
