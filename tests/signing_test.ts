/**
 * Signing and verification of result documents with real Ed25519 keys: a valid signature
 * verifies; every forgery is refused with its own reason and message.
 */
import { VerificationError } from "../src/errors.ts";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import canonicalize from "canonicalize";
import { base64url, calculateJwkThumbprint, FlattenedSign, flattenedVerify, importJWK, type JWK } from "jose";
import {
  generateKeys,
  type KeyFile,
  keyFilePermissionWarning,
  readJwks,
  readPrivateKey,
  SIGNATURE_TYPE,
  signDocument,
  signedBytes,
  verifyDocument,
  type VerifyFailure,
  writePrivateKey,
} from "../src/results/signing.ts";
import { clone, standardDoc, tempDir } from "./fixtures/harness.ts";

const keysA = await generateKeys();
const keysB = await generateKeys();
const trustA = { keys: [keysA.publicJwk] };
const doc = standardDoc() as unknown as Record<string, unknown>;
const signedA = await signDocument(doc, keysA);

const b64 = (s: string | Uint8Array) => base64url.encode(s);
const header = (h: Record<string, unknown>) => b64(JSON.stringify(h));

async function refused(
  d: Record<string, unknown>,
  reason: VerifyFailure,
  message: RegExp,
  trusted = trustA,
): Promise<void> {
  await assert.rejects(() => verifyDocument(d, trusted), (e: unknown) => {
    assert.ok(e instanceof VerificationError, `expected a VerificationError, got ${e}`);
    assert.equal(e.reason, reason, e.message);
    assert.match(e.message, message);
    return true;
  });
}

Deno.test("signing: generated keys, the thumbprint kid, sign and verify", async () => {
  assert.equal(keysA.publicJwk.kty, "OKP");
  assert.equal(keysA.publicJwk.crv, "Ed25519");
  assert.equal(keysA.publicJwk.d, undefined, "the public JWK holds no private part");
  assert.ok(keysA.privateJwk.d);
  assert.match(keysA.kid, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(keysA.kid, await calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x: keysA.publicJwk.x }));
  assert.notEqual(keysA.kid, keysB.kid);

  assert.equal(await verifyDocument(signedA, trustA), keysA.kid);
  assert.equal(await verifyDocument(signedA, { keys: [keysB.publicJwk, keysA.publicJwk] }), keysA.kid);
  const h = JSON.parse(new TextDecoder().decode(base64url.decode(signedA.signature.protected)));
  assert.deepEqual(h, {
    alg: "EdDSA",
    kid: keysA.kid,
    typ: SIGNATURE_TYPE,
    jwk: { kty: "OKP", crv: "Ed25519", x: keysA.publicJwk.x },
  });
  assert.equal(signedA.signature.signature.length, 86, "64 bytes, base64url");

  // The signed bytes are the RFC 8785 form of the document without its signature.
  assert.equal(new TextDecoder().decode(signedBytes(signedA)), canonicalize(doc));
  // Ed25519 is deterministic; re-signing a signed document replaces its signature.
  assert.deepEqual((await signDocument(signedA, keysA)).signature, signedA.signature);
  // The document survives a file round trip, re-indentation and key reordering (canonical form).
  const reordered = Object.fromEntries(Object.entries(clone(signedA)).reverse());
  assert.equal(await verifyDocument(JSON.parse(JSON.stringify(reordered, null, 7)), trustA), keysA.kid);
});

/** Every leaf of `x` (path and value), signature excluded. */
function leaves(x: unknown, path: (string | number)[] = []): { path: (string | number)[]; value: unknown }[] {
  if (x && typeof x === "object") {
    return Object.entries(x).flatMap(([k, v]) =>
      path.length === 0 && k === "signature" ? [] : leaves(v, [...path, Array.isArray(x) ? Number(k) : k])
    );
  }
  return [{ path, value: x }];
}

function setIn(x: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let o = x as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]] = value;
}

Deno.test("signing: a changed digit of a metric is refused as bad-signature", async () => {
  const text = JSON.stringify(signedA, null, 2);
  const m = /"acc_clean": 0\.9(\d)/.exec(text)!;
  const digit = m[1];
  const tampered = text.slice(0, m.index + m[0].length - 1) + String((Number(digit) + 1) % 10) +
    text.slice(m.index + m[0].length);
  assert.notEqual(tampered, text);
  await refused(
    JSON.parse(tampered),
    "bad-signature",
    new RegExp(`does not verify with trusted key ${keysA.kid}.*changed after signing`),
  );
});

Deno.test("signing: any change to any value of the content is refused", async () => {
  const all = leaves(signedA);
  assert.ok(all.length > 100, `${all.length} leaves`);
  for (const { path, value } of all) {
    const changed = typeof value === "number"
      ? value + (Number.isInteger(value) ? 1 : Math.abs(value) * 1e-12 || 1e-300)
      : typeof value === "string"
      ? value + "x"
      : typeof value === "boolean"
      ? !value
      : value === null
      ? 0
      : undefined;
    const d = clone(signedA) as Record<string, unknown>;
    setIn(d, path, changed);
    await refused(d, "bad-signature", /changed after signing/);
  }
  // Adding, removing or reordering members, too.
  await refused({ ...clone(signedA), extra: 1 }, "bad-signature", /changed after signing/);
  const { environment: _env, ...noEnvironment } = clone(signedA);
  await refused(noEnvironment, "bad-signature", /changed after signing/);
  const fewerRows = clone(signedA);
  (fewerRows.rows as unknown[]).pop();
  await refused(fewerRows, "bad-signature", /changed after signing/);
  const swapped = clone(signedA);
  (swapped.rows as unknown[]).reverse();
  await refused(swapped, "bad-signature", /changed after signing/);
});

Deno.test("signing: a signature by a key outside the trusted set is refused as untrusted-key", async () => {
  const signedB = await signDocument(doc, keysB);
  await refused(
    signedB,
    "untrusted-key",
    new RegExp(`signed by key ${keysB.kid}, which is not in the trusted keys`),
  );
  await refused(signedA, "untrusted-key", /not in the trusted keys/, { keys: [] });
  // A "kid" written into the trusted JWKS is not believed: trust follows the key material.
  await refused(signedB, "untrusted-key", /not in the trusted keys/, {
    keys: [{ ...keysA.publicJwk, kid: keysB.kid }],
  });
  // A signature without a kid names no trusted key.
  const noKid = await new FlattenedSign(signedBytes(doc)).setProtectedHeader({ alg: "EdDSA" })
    .sign(await importJWK(keysA.privateJwk, "EdDSA"));
  await refused(
    { ...doc, signature: { protected: noKid.protected, signature: noKid.signature } },
    "untrusted-key",
    /signed by key \(no kid\)/,
  );
});

Deno.test('signing: alg "none" with an empty signature is refused as bad-algorithm', async () => {
  for (const h of [{ alg: "none" }, { alg: "none", kid: keysA.kid }, { alg: "None" }, { kid: keysA.kid }]) {
    await refused(
      { ...doc, signature: { protected: header(h), signature: "" } },
      "bad-algorithm",
      new RegExp(`alg "${h.alg}" is refused; only EdDSA \\(Ed25519\\) is accepted`),
    );
  }
});

Deno.test("signing: HS256 keyed with the public key's bytes is refused as bad-algorithm", async () => {
  const payload = signedBytes(doc);
  const pub = keysA.publicJwk as JWK & { x: string };
  const secrets: [string, Uint8Array][] = [
    ["the JWK's x bytes", base64url.decode(pub.x)],
    ["the JSON text of the public JWK", new TextEncoder().encode(JSON.stringify(pub))],
    ["the x string", new TextEncoder().encode(pub.x)],
  ];
  for (const [what, secret] of secrets) {
    const protectedHeader = header({ alg: "HS256", kid: keysA.kid, typ: SIGNATURE_TYPE });
    const signingInput = `${protectedHeader}.${b64(payload)}`;
    const mac = createHmac("sha256", secret).update(signingInput).digest();
    const forged = { protected: protectedHeader, signature: b64(new Uint8Array(mac)) };
    // The forgery is a real HS256 JWS: a verifier that let the header pick the algorithm and
    // took the public key as the HMAC secret would accept it.
    const naive = await flattenedVerify({ ...forged, payload: b64(payload) }, secret, {
      algorithms: ["HS256"],
    });
    assert.deepEqual(naive.payload, payload, what);
    await refused({ ...doc, signature: forged }, "bad-algorithm", /alg "HS256" is refused/);
  }
  // Other algorithms are refused the same way, whatever the signature.
  for (const alg of ["ES256", "RS256", "PS256", "Ed25519"]) {
    await refused(
      { ...doc, signature: { ...signedA.signature, protected: header({ alg, kid: keysA.kid }) } },
      "bad-algorithm",
      new RegExp(`alg "${alg}" is refused`),
    );
  }
});

Deno.test("signing: a missing signature is refused as missing-signature", async () => {
  await refused(doc, "missing-signature", /the document has no signature/);
  const { signature: _sig, ...unsigned } = signedA;
  await refused(unsigned, "missing-signature", /the document has no signature/);
});

Deno.test("signing: a malformed signature is refused as malformed-signature", async () => {
  const good = signedA.signature;
  const cases: [string, unknown, RegExp][] = [
    ["null", null, /signature must be \{protected, signature\} base64url strings/],
    ["a string", "abc.def", /signature must be \{protected, signature\}/],
    ["no protected", { signature: good.signature }, /signature must be \{protected, signature\}/],
    ["no signature", { protected: good.protected }, /signature must be \{protected, signature\}/],
    ["numbers", { protected: 1, signature: 2 }, /signature must be \{protected, signature\}/],
    [
      "protected not base64url",
      { ...good, protected: "eyJ!!!" },
      /protected header is not base64url-encoded JSON/,
    ],
    [
      "protected not JSON",
      { ...good, protected: b64("not json") },
      /protected header is not base64url-encoded JSON/,
    ],
    ["protected padded", { ...good, protected: good.protected + "=" }, /protected header is not base64url/],
    ["protected null", { ...good, protected: b64("null") }, /protected header is not a JSON object/],
    ["protected array", { ...good, protected: b64("[1]") }, /protected header is not a JSON object/],
    [
      "signature not base64url",
      { ...good, signature: "!!" + good.signature.slice(2) },
      /not a base64url-encoded 64-byte/,
    ],
    [
      "signature standard base64",
      { ...good, signature: good.signature.slice(0, 84) + "+/" },
      /not a base64url-encoded 64-byte/,
    ],
    [
      "signature truncated",
      { ...good, signature: good.signature.slice(0, 43) },
      /64-byte Ed25519 signature \(43 characters\)/,
    ],
    ["signature empty", { ...good, signature: "" }, /64-byte Ed25519 signature \(0 characters\)/],
  ];
  for (const [what, signature, message] of cases) {
    await assert.rejects(() => verifyDocument({ ...doc, signature }, trustA), (e: unknown) => {
      assert.ok(e instanceof VerificationError, what);
      assert.equal(e.reason, "malformed-signature", `${what}: ${e.message}`);
      assert.match(e.message, message, what);
      return true;
    });
  }
});

Deno.test("signing: a kid spoofed to the trusted key's thumbprint but signed by another key is refused", async () => {
  const spoofed = await new FlattenedSign(signedBytes(doc))
    .setProtectedHeader({ alg: "EdDSA", kid: keysA.kid, typ: SIGNATURE_TYPE })
    .sign(await importJWK(keysB.privateJwk, "EdDSA"));
  const forged = { ...doc, signature: { protected: spoofed.protected, signature: spoofed.signature } };
  // B's signature is valid as such: only the claimed key is wrong.
  await flattenedVerify(
    { ...spoofed, payload: b64(signedBytes(doc)) },
    await importJWK(keysB.publicJwk, "EdDSA"),
  );
  await refused(forged, "bad-signature", new RegExp(`does not verify with trusted key ${keysA.kid}`));
  // A's real signature moved under B's kid is refused too (B is untrusted; when trusted, it fails).
  const moved = {
    ...signedA,
    signature: { ...signedA.signature, protected: header({ alg: "EdDSA", kid: keysB.kid }) },
  };
  await refused(moved, "untrusted-key", /not in the trusted keys/);
  await refused(moved, "bad-signature", /does not verify/, { keys: [keysA.publicJwk, keysB.publicJwk] });
});

Deno.test("signing: key files are 0600, read back to the same key, and never overwritten", async () => {
  await using tmp = await tempDir("keys");
  const path = `${tmp.dir}/key.jwk`;
  await writePrivateKey(path, keysA);
  assert.equal((await Deno.stat(path)).mode! & 0o777, 0o600);
  const before = await Deno.readTextFile(path);
  const back: KeyFile = await readPrivateKey(path);
  assert.equal(back.kid, keysA.kid);
  assert.deepEqual(back.publicJwk, keysA.publicJwk);
  // Signing with the key read back gives a signature that verifies.
  assert.equal(await verifyDocument(await signDocument(doc, back), trustA), keysA.kid);

  await assert.rejects(() => writePrivateKey(path, keysB), Deno.errors.AlreadyExists);
  assert.equal(await Deno.readTextFile(path), before, "the existing key is untouched");

  // A public key is not a private key file.
  const pubPath = `${tmp.dir}/public.jwk`;
  await Deno.writeTextFile(pubPath, JSON.stringify(keysA.publicJwk));
  await assert.rejects(() => readPrivateKey(pubPath), /expected a private Ed25519 JWK/);
});

Deno.test("signing: a trusted-keys file must hold public Ed25519 keys only", async () => {
  await using tmp = await tempDir("jwks");
  const write = async (name: string, value: unknown) => {
    await Deno.writeTextFile(`${tmp.dir}/${name}`, JSON.stringify(value));
    return `${tmp.dir}/${name}`;
  };
  assert.deepEqual(await readJwks(await write("ok.jwks", trustA)), trustA);
  await assert.rejects(
    async () => readJwks(await write("priv.jwks", { keys: [keysA.privateJwk] })),
    /keys\[0\] is not a public Ed25519 JWK/,
  );
  await assert.rejects(
    async () =>
      readJwks(
        await write("ec.jwks", { keys: [keysA.publicJwk, { kty: "EC", crv: "P-256", x: "a", y: "b" }] }),
      ),
    /keys\[1\] is not a public Ed25519 JWK/,
  );
  await assert.rejects(async () => readJwks(await write("bare.jwks", [keysA.publicJwk])), /expected a JWKS/);
});

Deno.test("signing: a key file others can read gets a warning; a 0600 one none; a mismatched pair is refused", async () => {
  await using t = await tempDir("keymode");
  const dir = t.dir;
  const keys = await generateKeys();
  const path = `${dir}/key.jwk`;
  await writePrivateKey(path, keys);
  assert.equal(await keyFilePermissionWarning(path), null);
  await Deno.chmod(path, 0o644);
  assert.match(
    (await keyFilePermissionWarning(path))!,
    /readable by other users \(mode 644\); chmod 600 it/,
  );

  const other = await generateKeys();
  const mixed = `${dir}/mixed.jwk`;
  await Deno.writeTextFile(mixed, JSON.stringify({ ...keys.privateJwk, x: other.publicJwk.x }));
  await assert.rejects(readPrivateKey(mixed), /does not belong to the private key "d"/);
});
