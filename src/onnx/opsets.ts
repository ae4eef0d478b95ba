/** The opsets whose operator versions the importer reads (the default domain). */
export const OPSETS = [7, 25] as const;
