/** TEST SUPPORT: the part of a node's capability report every test node shares; each adds what it offers. */

/** Version, `slug`, time of the report and a linux/amd64 platform with `compute`. */
export const capabilityBase = (slug: string, reportedAt: string, compute: { cpu_cores: number; ram_mb: number }) => ({
  version: 1,
  reported_at: reportedAt,
  node: { node_slug: slug },
  platform: { os: "linux", arch: "amd64" },
  compute,
});
