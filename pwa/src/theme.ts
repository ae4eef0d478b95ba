import { css } from 'lit';

/**
 * The app's colours, light and dark (from `prefers-color-scheme`), as custom properties every panel reads, and the
 * controls' common look: tap targets of at least 44 px.
 */
export const theme = css`
  :host {
    --fg: #1f2328; --muted: #57606a; --bg: #fff; --surface: #f6f8fa; --line: #d0d7de; --accent: #1f6feb;
    --on-accent: #fff; --good: #1a7f37; --bad: #cf222e; --note: #fff8c5; --note-line: #d4a72c;
    color-scheme: light dark;
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --surface: #161b22; --line: #3d444d; --accent: #4493f8;
      --on-accent: #fff; --good: #3fb950; --bad: #f85149; --note: #3b2e00; --note-line: #9e6a03;
    }
  }
  :host { color: var(--fg); background: var(--bg); }
  button, select, input[type='file']::file-selector-button {
    font: inherit; padding: 8px 12px; border-radius: 8px; border: 1px solid var(--line); background: var(--surface);
    color: var(--fg); cursor: pointer; min-height: 44px; min-width: 44px;
  }
  input[type='file'] { min-height: 44px; }
  button:disabled { opacity: 0.5; cursor: default; }
  button:focus-visible, select:focus-visible, input:focus-visible, [role='tab']:focus-visible {
    outline: 3px solid var(--accent); outline-offset: 2px;
  }
`;
