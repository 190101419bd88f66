const MAX_FILENAME = 128;

/**
 * Makes a client-supplied filename safe to use in an S3 key and to echo back: no directories, no
 * control characters, a small character set, at most 128 characters with the extension kept.
 */
export function sanitizeFilename(input: string | undefined, fallback: string): string {
  const base = (input ?? "").replace(/\\/g, "/").split("/").pop() ?? "";
  let name = base
    .normalize("NFKC")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^[._]+/, "")
    .replace(/[._]+$/, "");
  if (name.length > MAX_FILENAME) {
    const dot = name.lastIndexOf(".");
    const ext = dot > 0 && name.length - dot <= 10 ? name.slice(dot) : "";
    name = name.slice(0, MAX_FILENAME - ext.length) + ext;
  }
  return name || fallback;
}
