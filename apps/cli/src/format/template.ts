import { BerthError } from '@berth/oci';
import { executeTemplate, TemplateExecError } from './template/exec.js';
import { HEADER_FUNCS, TEMPLATE_FUNCS } from './template/funcs.js';
import { type ParsedTemplate, parseTemplate, TemplateSyntaxError } from './template/parse.js';

export { goJson } from './template/funcs.js';

/** A compiled `--format` template. */
export interface Template {
  /** The source text it was compiled from. */
  readonly source: string;
  /** Runs the template against `data`; throws a {@link TemplateError} when execution fails. */
  execute(data: unknown): string;
  /** Runs it with docker's header functions (`upper`, `json`… leave the column title as is). */
  executeHeader(data: unknown): string;
}

/** Codes of {@link TemplateError}: the template failed to parse, or to run against the data. */
export const TemplateErrorCode = {
  TEMPLATE_SYNTAX: 'TEMPLATE_SYNTAX',
  TEMPLATE_EXEC: 'TEMPLATE_EXEC',
} as const;
/** Union of {@link TemplateErrorCode} values. */
export type TemplateErrorCode = (typeof TemplateErrorCode)[keyof typeof TemplateErrorCode];

/**
 * A template that failed to parse or to execute. `message` is Go's text prefixed the way docker
 * prints it: `template parsing error: template: :1: function "foo" not defined`.
 */
export class TemplateError extends BerthError<TemplateErrorCode> {
  /**
   * @param code - whether parsing or execution failed
   * @param message - Go's message, without docker's prefix
   * @param options - the template source and the wrapped cause
   */
  constructor(code: TemplateErrorCode, message: string, options: { source: string; cause?: unknown }) {
    super(code, `template parsing error: ${message}`, { input: { field: '--format' }, cause: options.cause });
    this.name = 'TemplateError';
  }
}

/**
 * Compiles a Go text/template source with docker's function set. Throws {@link TemplateError}
 * on a syntax error.
 */
export function compileTemplate(source: string): Template {
  let parsed: ParsedTemplate;
  try {
    parsed = parseTemplate(source, { functions: new Set(TEMPLATE_FUNCS.keys()) });
  } catch (e) {
    if (e instanceof TemplateSyntaxError)
      throw new TemplateError('TEMPLATE_SYNTAX', e.message, { source, cause: e });
    throw e;
  }
  const run = (data: unknown, funcs: typeof TEMPLATE_FUNCS): string => {
    try {
      return executeTemplate(parsed, data, funcs);
    } catch (e) {
      if (e instanceof TemplateExecError)
        throw new TemplateError('TEMPLATE_EXEC', e.message, { source, cause: e });
      throw e;
    }
  };
  return {
    source,
    execute: (data) => run(data, TEMPLATE_FUNCS),
    executeHeader: (data) => run(data, HEADER_FUNCS),
  };
}
