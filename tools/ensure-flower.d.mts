export const FLWR_VERSION: string;
export const venv: string;
export function ensureFlower(): string;
