/**
 * layerhive's version, as package.json states it, for the files it writes (ONNX `producer_version` and metadata).
 * A constant rather than an import of package.json: the browser bundles have no JSON loader, and a test holds the
 * two equal (test/unit/onnx/contract.test.ts), so a release that bumps one and not the other fails.
 */
export const LAYERHIVE_VERSION = '0.1.0';
