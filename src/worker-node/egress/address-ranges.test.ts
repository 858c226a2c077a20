import { describe, expect, it } from "bun:test";
import { isPublicAddress } from "./address-ranges";

describe("isPublicAddress", () => {
  it("is true for public IPv4 and IPv6 addresses, and IPv4-mapped public ones", () => {
    for (const a of ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "::ffff:808:808"])
      expect(isPublicAddress(a)).toBe(true);
  });

  it("is false for loopback, private, link-local, shared, multicast, reserved, unspecified and mapped ones", () => {
    const special = ["127.0.0.2", "10.1.1.1", "172.20.0.1", "192.168.1.1", "169.254.169.254", "100.100.1.1", "0.0.0.0"];
    const v6 = ["::1", "::", "fe80::1", "fd00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "64:ff9b::a00:1"];
    for (const a of [...special, "224.0.0.1", "240.0.0.1", ...v6, "not an address"])
      expect(isPublicAddress(a)).toBe(false);
  });
});
