/** A validation finding: which check, which template, where in it, and what is wrong. */
export interface Finding {
  readonly check: string;
  readonly template: string;
  /** Logical ID or JSON path inside the template ("" for the whole template). */
  readonly path: string;
  readonly message: string;
}

export const formatFinding = (f: Finding): string =>
  `[${f.check}] ${f.template}${f.path === '' ? '' : ` ${f.path}`}: ${f.message}`;
