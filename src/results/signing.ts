/**
 * Signing and verifying result documents (and reproduction attestations). A signed document is
 * the document itself plus a `signature` member holding a flattened JWS with detached payload
 * (RFC 7515 §7.2.2 and App. F): the payload is the RFC 8785 canonical JSON of the document
 * without `signature`. The only algorithm is EdDSA (Ed25519); the key id is the RFC 7638
 * thumbprint of the public JWK, which the protected header also carries (`jwk`), so anyone can
 * check a signature by any key (`verifySigner`: self-reported unless the key is trusted). The
 * header's `typ` says what kind of document is signed and is checked.
 */
import { KeyFileError, VerificationError } from "../errors.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { createPrivateKey, createPublicKey } from "node:crypto";
import {
  base64url,
  calculateJwkThumbprint,
  exportJWK,
  FlattenedSign,
  flattenedVerify,
  generateKeyPair,
  importJWK,
  type JWK,
} from "jose";

export const SIGNATURE_TYPE = "invbench-result+jws";
export const ATTESTATION_SIGNATURE_TYPE = "invbench-attestation+jws";

export interface DetachedSignature {
  protected: string;
  signature: string;
}

export interface KeyFile {
  /** The private JWK (Ed25519, with `d`), its `kid` the public thumbprint. */
  privateJwk: JWK;
  publicJwk: JWK;
  kid: string;
}

/** Why a signature was refused; each reason has its own message and CLI exit code. */
export type VerifyFailure =
  | "missing-signature"
  | "malformed-signature"
  | "bad-algorithm"
  | "untrusted-key"
  | "bad-signature"
  /** A dataset manifest beside the result (run_dir's manifests/) that its document does not record. */
  | "manifest-mismatch";

/** The canonical bytes that are signed: the document without its `signature` member. */
export function signedBytes(doc: Record<string, unknown>): Uint8Array {
  const { signature: _ignored, ...content } = doc;
  return new TextEncoder().encode(canonicalJson(content));
}

/** A fresh Ed25519 key pair; `kid` is the RFC 7638 thumbprint of the public key. */
export async function generateKeys(): Promise<KeyFile> {
  const { privateKey, publicKey } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: "EdDSA" };
  return { privateJwk, publicJwk: { ...publicJwk, kid, alg: "EdDSA", use: "sig" }, kid };
}

/** The JSON in `path`; a missing file stays Deno.errors.NotFound (localKey relies on it). */
async function readJsonFile(path: string, what: string): Promise<unknown> {
  const text = await Deno.readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new KeyFileError(`${path}: expected ${what} in JSON: ${(e as Error).message}`);
  }
}

/** Writes the private JWK to `path` with mode 0600 (refuses to overwrite an existing file). */
export async function writePrivateKey(path: string, keys: KeyFile): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    throw new Deno.errors.AlreadyExists(`${path} already exists; a key file is never overwritten`);
  }
  try {
    await file.write(new TextEncoder().encode(JSON.stringify(keys.privateJwk, null, 2) + "\n"));
  } finally {
    file.close();
  }
  await Deno.chmod(path, 0o600);
}

/** Reads a private JWK file written by `writePrivateKey`. */
export async function readPrivateKey(path: string): Promise<KeyFile> {
  const jwk = await readJsonFile(path, "a private Ed25519 JWK") as JWK;
  if (!jwk || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.d || !jwk.x) {
    throw new KeyFileError(`${path}: expected a private Ed25519 JWK (kty OKP, crv Ed25519, with d and x)`);
  }
  // The public part must be the one the private part derives: otherwise every result signed with
  // the file fails to verify against its own signer.jwks, which is found out only after the run.
  let derived: string | undefined;
  try {
    derived = createPublicKey(
      createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: jwk.d, x: jwk.x }, format: "jwk" }),
    )
      .export({ format: "jwk" }).x;
  } catch (e) {
    throw new KeyFileError(
      `${path}: the private key "d" is not a valid Ed25519 key (${(e as Error).message})`,
    );
  }
  if (derived !== jwk.x) {
    throw new KeyFileError(
      `${path}: the public key "x" does not belong to the private key "d" (a mismatched key pair); ` +
        `results signed with it could never verify`,
    );
  }
  const publicJwk: JWK = { kty: "OKP", crv: "Ed25519", x: jwk.x };
  const kid = await calculateJwkThumbprint(publicJwk, "sha256");
  return { privateJwk: jwk, publicJwk: { ...publicJwk, kid, alg: "EdDSA", use: "sig" }, kid };
}

/** A warning when a private key file can be read by other users of the machine, else null. */
export async function keyFilePermissionWarning(path: string): Promise<string | null> {
  if (Deno.build.os === "windows") return null;
  const { mode } = await Deno.stat(path);
  return mode !== null && (mode & 0o077)
    ? `${path} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`
    : null;
}

/** Returns `doc` with a `signature` member over its canonical form. */
export async function signDocument<T extends Record<string, unknown>>(
  doc: T,
  keys: KeyFile,
  o: {
    /** What kind of document is signed (default a result). */
    typ?: string;
    /** Carry the public key in the header (default), so that anyone can check the signature. */
    embedKey?: boolean;
  } = {},
): Promise<T & { signature: DetachedSignature }> {
  const key = await importJWK(keys.privateJwk, "EdDSA");
  const jwk = { kty: "OKP", crv: "Ed25519", x: keys.publicJwk.x! };
  const jws = await new FlattenedSign(signedBytes(doc))
    .setProtectedHeader({
      alg: "EdDSA",
      kid: keys.kid,
      typ: o.typ ?? SIGNATURE_TYPE,
      ...(o.embedKey === false ? {} : { jwk }),
    })
    .sign(key);
  const { signature: _old, ...content } = doc;
  return { ...content, signature: { protected: jws.protected!, signature: jws.signature } } as T & {
    signature: DetachedSignature;
  };
}

const B64URL = /^[A-Za-z0-9_-]*$/;

export interface Jwks {
  keys: JWK[];
}

/** Reads a trusted-keys file (a JWKS); every key must be a public Ed25519 JWK. */
export async function readJwks(path: string): Promise<Jwks> {
  const jwks = await readJsonFile(path, 'a JWKS ({"keys": [...]})') as Jwks;
  if (!jwks || !Array.isArray(jwks.keys)) {
    throw new KeyFileError(`${path}: expected a JWKS ({"keys": [...]})`);
  }
  jwks.keys.forEach((k, i) => {
    if (!k || k.kty !== "OKP" || k.crv !== "Ed25519" || !k.x || k.d) {
      throw new KeyFileError(
        `${path}: keys[${i}] is not a public Ed25519 JWK (kty OKP, crv Ed25519, x, no d)`,
      );
    }
  });
  return jwks;
}

/**
 * Verifies `doc.signature` against the trusted keys. Returns the signer's key id; throws a
 * VerificationError whose `reason` says what was wrong.
 */
export async function verifyDocument(
  doc: Record<string, unknown>,
  trusted: Jwks,
  typ = SIGNATURE_TYPE,
): Promise<string> {
  const sig = doc.signature as Partial<DetachedSignature> | undefined;
  if (sig === undefined) throw new VerificationError("missing-signature", "the document has no signature");
  if (!sig || typeof sig.protected !== "string" || typeof sig.signature !== "string") {
    throw new VerificationError(
      "malformed-signature",
      "signature must be {protected, signature} base64url strings",
    );
  }
  let header: { alg?: string; kid?: string; typ?: string; jwk?: JWK };
  try {
    if (!B64URL.test(sig.protected)) throw new Error("not base64url");
    header = JSON.parse(new TextDecoder().decode(base64url.decode(sig.protected)));
  } catch {
    throw new VerificationError("malformed-signature", "the protected header is not base64url-encoded JSON");
  }
  if (!header || typeof header !== "object" || Array.isArray(header)) {
    throw new VerificationError("malformed-signature", "the protected header is not a JSON object");
  }
  if (header.alg !== "EdDSA") {
    throw new VerificationError(
      "bad-algorithm",
      `alg "${header.alg}" is refused; only EdDSA (Ed25519) is accepted`,
    );
  }
  // An older signature may lack typ; one that names another kind of document is refused.
  if (header.typ !== undefined && header.typ !== typ) {
    throw new VerificationError(
      "malformed-signature",
      `typ "${header.typ}": this signature is for another kind of document; expected ${typ}`,
    );
  }
  // An Ed25519 signature is 64 bytes: anything else is malformed, not a content mismatch.
  if (!B64URL.test(sig.signature) || sig.signature.length !== 86) {
    throw new VerificationError(
      "malformed-signature",
      `the signature is not a base64url-encoded 64-byte Ed25519 signature (${sig.signature.length} characters)`,
    );
  }
  // Match by thumbprint, recomputed from each trusted key: a "kid" written into the JWKS is not trusted.
  let match: JWK | undefined;
  for (const k of trusted.keys) {
    if ((await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: k.x! }, "sha256")) === header.kid) {
      match = k;
    }
  }
  if (!match) {
    throw new VerificationError(
      "untrusted-key",
      `signed by key ${header.kid ?? "(no kid)"}, which is not in the trusted keys`,
    );
  }
  const key = await importJWK({ kty: "OKP", crv: "Ed25519", x: match.x }, "EdDSA");
  try {
    await flattenedVerify(
      { protected: sig.protected, signature: sig.signature, payload: base64url.encode(signedBytes(doc)) },
      key,
      { algorithms: ["EdDSA"] },
    );
  } catch (e) {
    throw new VerificationError(
      "bad-signature",
      `the signature does not verify with trusted key ${header.kid} (${
        (e as Error).message
      }): the document was changed after signing, or another key signed it`,
    );
  }
  return header.kid!;
}

/** Who signed a document: the key's thumbprint, and whether that key is a trusted one. */
export interface Signer {
  kid: string;
  trusted: boolean;
}

/**
 * Verifies `doc` against the trusted keys, or else against the public key its protected header
 * carries: a valid signature by any Ed25519 key is accepted, as self-reported (`trusted` false).
 * A signature without a usable public key, or one that does not verify, is refused as
 * `verifyDocument` refuses it.
 */
export async function verifySigner(
  doc: Record<string, unknown>,
  trusted: Jwks,
  typ = SIGNATURE_TYPE,
): Promise<Signer> {
  try {
    return { kid: await verifyDocument(doc, trusted, typ), trusted: true };
  } catch (e) {
    if (!(e instanceof VerificationError) || e.reason !== "untrusted-key") throw e;
    const sig = doc.signature as DetachedSignature;
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(sig.protected)));
    const jwk = header?.jwk;
    if (!jwk || typeof jwk !== "object" || jwk.kty !== "OKP" || jwk.crv !== "Ed25519" || !jwk.x || jwk.d) {
      throw new VerificationError(
        "untrusted-key",
        `${e.message}, and the signature carries no public Ed25519 key (jwk) to check it with`,
      );
    }
    return {
      kid: await verifyDocument(doc, { keys: [{ kty: "OKP", crv: "Ed25519", x: jwk.x }] }, typ),
      trusted: false,
    };
  }
}
