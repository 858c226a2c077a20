import { describe, expect, it } from "bun:test";
import { mkdir, mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configPath, loadConfig, saveConfig } from "./config-file";
import type { CliError } from "./errors";

const tmp = () => mkdtemp(join(tmpdir(), "cynork-config-"));

async function loadError(path: string): Promise<CliError> {
  try {
    await loadConfig(path);
  } catch (err) {
    return err as CliError;
  }
  throw new Error("expected a load error");
}

describe("configPath", () => {
  it("prefers --config, then XDG_CONFIG_HOME, then ~/.config", () => {
    expect(configPath("/a.yaml", { XDG_CONFIG_HOME: "/x" }, "/home/u")).toBe("/a.yaml");
    expect(configPath(undefined, { XDG_CONFIG_HOME: "/x" }, "/home/u")).toBe("/x/cynork/config.yaml");
    expect(configPath(undefined, {}, "/home/u")).toBe("/home/u/.config/cynork/config.yaml");
  });
});

describe("loadConfig", () => {
  it("treats a missing or empty file as empty and never creates it", async () => {
    const dir = await tmp();
    expect((await loadConfig(join(dir, "none.yaml"))).file).toEqual({});
    expect(await readdir(dir)).toEqual([]);
    await writeFile(join(dir, "empty.yaml"), "");
    expect((await loadConfig(join(dir, "empty.yaml"))).file).toEqual({});
  });

  it("reads the known keys and ignores unknown ones", async () => {
    const path = join(await tmp(), "c.yaml");
    await writeFile(path, "gateway_url: http://gw:12080\ntoken: t\nrefresh_token: r\ncredential_helper: h\n");
    expect((await loadConfig(path)).file).toEqual({ gateway_url: "http://gw:12080", token: "t", refresh_token: "r" });
  });

  it("rejects invalid YAML, a non-mapping, a wrongly typed key or an unreadable path with exit 2", async () => {
    const dir = await tmp();
    const cases: [string, string, RegExp][] = [
      ["bad.yaml", "token: [1", /^load config: .*bad\.yaml: /],
      ["list.yaml", "- a\n", /expected a mapping$/],
      ["typed.yaml", "token: 5\n", /token must be a string$/],
    ];
    for (const [name, text, message] of cases) {
      await writeFile(join(dir, name), text);
      const err = await loadError(join(dir, name));
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(message);
    }
    await mkdir(join(dir, "a-dir"));
    expect((await loadError(join(dir, "a-dir"))).message).toStartWith("load config: ");
  });
});

describe("saveConfig", () => {
  it("writes atomically with dir 0700 and file 0600, keeping keys it does not own", async () => {
    const dir = join(await tmp(), "nested", "cynork");
    const path = join(dir, "config.yaml");
    let loaded = await loadConfig(path);
    loaded = await saveConfig(loaded, { token: "t1", refresh_token: "r1" });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await writeFile(path, `${await readFile(path, "utf8")}extra: kept\n`);
    loaded = await saveConfig(await loadConfig(path), { token: undefined, gateway_url: "http://x" });
    expect(loaded.file).toEqual({ refresh_token: "r1", gateway_url: "http://x" });
    expect(Bun.YAML.parse(await readFile(path, "utf8"))).toEqual({
      refresh_token: "r1",
      extra: "kept",
      gateway_url: "http://x",
    });
    expect(await readdir(dir)).toEqual(["config.yaml"]);
  });
});
