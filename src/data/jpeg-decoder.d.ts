// Types for jpeg-js's decoder on its own (the package's index.d.ts types the encoder too, with Node's Buffer):
// importing lib/decoder.js keeps the encoder, and Buffer, out of browser bundles.
declare module 'jpeg-js/lib/decoder.js' {
  interface DecodeOptions {
    /** Must be true outside Node: a Uint8Array instead of a Buffer. */
    useTArray: true;
    colorTransform?: boolean;
    /** false: RGB, 3 bytes a pixel (grey JPEGs too). */
    formatAsRGBA?: boolean;
    tolerantDecoding?: boolean;
    maxResolutionInMP?: number;
    maxMemoryUsageInMB?: number;
  }
  export default function decode(
    jpegData: Uint8Array | ArrayBuffer,
    opts: DecodeOptions,
  ): { width: number; height: number; data: Uint8Array };
}
