import { ConfigError, ServiceError } from "@content-engine/core";
import { describe, expect, it } from "vitest";
import { Keyring } from "../src/auth.ts";

const KEY_A = "key-a-0123456789abcdef";
const KEY_B = "key-b-0123456789abcdef";

describe("API keyring", () => {
  const keyring = new Keyring(`${KEY_A}:acme, ${KEY_B}:globex`);

  it("maps each key to its tenant and refuses unknown keys", () => {
    expect(keyring.tenantFor(KEY_A)).toBe("acme");
    expect(keyring.tenantFor(KEY_B)).toBe("globex");
    expect(keyring.tenantFor(`${KEY_A}x`)).toBeUndefined();
    expect(keyring.tenantFor("")).toBeUndefined();
  });

  it("accepts only 'Authorization: Bearer <key>' and answers 401 otherwise", () => {
    expect(keyring.authenticate(`Bearer ${KEY_A}`)).toBe("acme");
    for (const header of [
      undefined,
      "",
      KEY_A,
      `Basic ${KEY_A}`,
      "Bearer",
      `Bearer ${"x".repeat(600)}`,
      "Bearer wrong-key-000000000",
    ]) {
      expect(() => keyring.authenticate(header)).toThrow(ServiceError);
      try {
        keyring.authenticate(header);
      } catch (error) {
        expect(error).toMatchObject({ status: 401, code: "unauthorized" });
      }
    }
  });

  it("keeps a key's tenant even when the key itself contains a colon", () => {
    expect(new Keyring("a:b:c-0123456789abcdef:tenant-1").tenantFor("a:b:c-0123456789abcdef")).toBe(
      "tenant-1",
    );
  });

  it("refuses short keys, missing tenants and unsafe tenant names at start-up", () => {
    expect(() => new Keyring("short:acme")).toThrow(ConfigError);
    expect(() => new Keyring(`${KEY_A}`)).toThrow(/CONTENT_ENGINE_API_KEYS/);
    expect(() => new Keyring(`${KEY_A}:../etc`)).toThrow(ConfigError);
    expect(new Keyring("").size).toBe(0);
  });

  it("does not keep the keys themselves in memory", () => {
    expect(JSON.stringify(keyring)).not.toContain(KEY_A);
  });
});
