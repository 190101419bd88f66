import { createHash, createHmac, createSecretKey, type Hash, type Hmac, type KeyObject } from "node:crypto";

type SourceData = string | ArrayBuffer | ArrayBufferView;

// Node 24's createHmac turns a Buffer key into a key object on every call, which costs about 20 µs
// (a string key, or a KeyObject made once, about 4 µs). SigV4 signs every request with an HMAC whose
// key is the day's signing key, the same bytes (the same Uint8Array, from the signer's cache) for a
// day: made into a KeyObject once here, it costs a fifth. bench/aws-call-cost.ts measures the calls.
const keyObjects = new WeakMap<ArrayBuffer | ArrayBufferView, KeyObject>();

function hmacKey(secret: SourceData): string | KeyObject {
  if (typeof secret === "string") return secret;
  let key = keyObjects.get(secret);
  if (!key) {
    key = createSecretKey(bytes(secret));
    keyObjects.set(secret, key);
  }
  return key;
}

function bytes(data: ArrayBuffer | ArrayBufferView): Buffer {
  return ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(data);
}

/**
 * SHA-256 and HMAC-SHA-256 for the AWS SDK (the clients' `sha256` option, used by the SigV4 signer),
 * with the behaviour of the SDK's own Node implementation and HMAC keys kept as KeyObjects.
 */
export class NodeSha256 {
  readonly digestLength = 32;
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;
  #finished = false;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#create();
  }

  update(data: SourceData): void {
    if (this.#finished) throw new Error("Attempted to update an already finished hash.");
    this.#hash.update(typeof data === "string" ? data : bytes(data));
  }

  async digest(): Promise<Uint8Array> {
    let out: Buffer;
    if (this.#secret !== undefined) {
      this.#finished = true;
      out = this.#hash.digest();
    } else {
      // A plain hash may go on being updated after a digest, as the SDK's does.
      out = (this.#hash as Hash).copy().digest();
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  reset(): void {
    this.#hash = this.#create();
    this.#finished = false;
  }

  #create(): Hash | Hmac {
    return this.#secret !== undefined ? createHmac("sha256", hmacKey(this.#secret)) : createHash("sha256");
  }
}
