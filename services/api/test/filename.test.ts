import { describe, expect, it } from "vitest";
import { sanitizeFilename } from "../src/filename.ts";

describe("filename sanitising", () => {
  it("drops directories, so ../ cannot climb out of the job's prefix", () => {
    expect(sanitizeFilename("../../etc/passwd", "x")).toBe("passwd");
    expect(sanitizeFilename("..\\..\\windows\\win.ini", "x")).toBe("win.ini");
    expect(sanitizeFilename("..", "fallback.txt")).toBe("fallback.txt");
  });

  it("removes NUL and control characters and replaces unsafe characters", () => {
    expect(sanitizeFilename("rep\u0000ort\n.txt", "x")).toBe("report.txt");
    expect(sanitizeFilename("my report (final) ✓.md", "x")).toBe("my_report_final_.md");
    expect(sanitizeFilename('<script>"x".html', "x")).toBe("script_x_.html");
  });

  it("shortens a 4 KB name to 128 characters and keeps the extension", () => {
    const name = sanitizeFilename(`${"a".repeat(4096)}.json`, "x");
    expect(name).toHaveLength(128);
    expect(name.endsWith(".json")).toBe(true);
  });

  it("falls back when nothing usable is left", () => {
    expect(sanitizeFilename(undefined, "document.txt")).toBe("document.txt");
    expect(sanitizeFilename("\u0000\u0001", "document.txt")).toBe("document.txt");
  });
});
