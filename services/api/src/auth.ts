import { createHash, timingSafeEqual } from "node:crypto";
import { ConfigError, ServiceError, tenantSchema } from "@content-engine/core";

/**
 * API keys as `key:tenant` pairs. Only SHA-256 digests are kept in memory, and a lookup compares the
 * presented key's digest with every stored digest in constant time, so neither timing nor a heap
 * dump gives a key away.
 */
export class Keyring {
  private readonly entries: Array<{ digest: Buffer; tenant: string }>;

  constructor(pairs: string) {
    this.entries = [];
    for (const raw of pairs
      .split(",")
      .map((p) => p.trim())
      .filter(Boolean)) {
      const at = raw.lastIndexOf(":");
      const key = raw.slice(0, at);
      const tenant = raw.slice(at + 1);
      if (at <= 0 || key.length < 16 || !tenantSchema.safeParse(tenant).success) {
        throw new ConfigError(
          "CONTENT_ENGINE_API_KEYS: expected comma-separated key:tenant pairs (key of 16+ characters, tenant of letters, digits, _ or -), got an entry that is not",
        );
      }
      this.entries.push({ digest: digest(key), tenant });
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** The tenant for a presented key, or undefined. Every stored entry is compared, always. */
  tenantFor(key: string): string | undefined {
    const presented = digest(key);
    let found: string | undefined;
    for (const entry of this.entries) {
      if (timingSafeEqual(entry.digest, presented)) found = entry.tenant;
    }
    return found;
  }

  /** Reads `Authorization: Bearer <key>` and returns the tenant, or throws a 401. */
  authenticate(authorization: string | null | undefined): string {
    const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(authorization ?? "");
    if (!match) {
      throw new ServiceError(401, "unauthorized", "send an API key as 'Authorization: Bearer <key>'");
    }
    const tenant = this.tenantFor(match[1]!);
    if (!tenant) throw new ServiceError(401, "unauthorized", "the API key is not valid");
    return tenant;
  }
}

function digest(key: string): Buffer {
  return createHash("sha256").update(key, "utf8").digest();
}
