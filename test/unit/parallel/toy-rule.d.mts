/** Registers the toy two-segment local-loss rule ('toy-local') with this copy of layerhive. */
export declare function register(lh: typeof import('../../../src/index.js')): void;
