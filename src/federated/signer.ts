/**
 * The SuperNode identity a SuperLink 1.42 asks of every Fleet call: an ECDSA P-384 key pair made on the device;
 * each request carries the public key (PEM, base64), an ISO timestamp and the timestamp's ECDSA-SHA256 signature
 * (DER, base64). WebCrypto only, so it runs in Node and in browsers (secure contexts: https or localhost).
 */
export interface NodeSigner {
  /** The public key as Flower stores it: PEM SubjectPublicKeyInfo bytes. */
  publicKeyPem: Uint8Array;
  headers(): Promise<Record<string, string>>;
}

const b64 = (bytes: Uint8Array) => {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
};

/** WebCrypto's ECDSA signature (r ‖ s, fixed width) as the DER SEQUENCE { INTEGER r, INTEGER s } Python verifies. */
export function p1363ToDer(sig: Uint8Array): Uint8Array {
  const half = sig.length / 2;
  const int = (x: Uint8Array) => {
    let i = 0;
    while (i < x.length - 1 && x[i] === 0) i++;
    const v = x.subarray(i);
    return v[0] & 0x80 ? [0x02, v.length + 1, 0, ...v] : [0x02, v.length, ...v];
  };
  const body = [...int(sig.subarray(0, half)), ...int(sig.subarray(half))];
  const len = body.length < 0x80 ? [body.length] : [0x81, body.length];
  return Uint8Array.from([0x30, ...len, ...body]);
}

export async function createNodeSigner(): Promise<NodeSigner> {
  const keys = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, [
    'sign',
    'verify',
  ])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey('spki', keys.publicKey));
  const lines = b64(spki).match(/.{1,64}/g) ?? [];
  const pem = new TextEncoder().encode(`-----BEGIN PUBLIC KEY-----\n${lines.join('\n')}\n-----END PUBLIC KEY-----\n`);
  const publicKeyHeader = b64(pem);
  return {
    publicKeyPem: pem,
    async headers() {
      const timestamp = new Date().toISOString().replace('Z', '+00:00');
      const raw = new Uint8Array(
        await crypto.subtle.sign(
          { name: 'ECDSA', hash: 'SHA-256' },
          keys.privateKey,
          new TextEncoder().encode(timestamp),
        ),
      );
      return {
        'flwr-public-key': publicKeyHeader,
        'flwr-timestamp': timestamp,
        'flwr-signature': b64(p1363ToDer(raw)),
      };
    },
  };
}
