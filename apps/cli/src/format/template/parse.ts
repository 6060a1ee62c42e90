/**
 * Lexer and parser for the subset of Go's text/template that docker's `--format` uses. The
 * structure and the error texts follow Go's `text/template/parse` (lex.go, parse.go, node.go)
 * so that a user sees the messages docker would print.
 */

/** A parse error; `message` is Go's text without docker's `template parsing error: ` prefix. */
export class TemplateSyntaxError extends Error {
  override name = 'TemplateSyntaxError';
}

type TokKind =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'field'
  | 'variable'
  | 'identifier'
  | 'keyword'
  | 'bool'
  | 'number'
  | 'string'
  | 'rawString'
  | 'char'
  | 'pipe'
  | 'lparen'
  | 'rparen'
  | 'declare'
  | 'assign'
  | 'comma'
  | 'dot'
  | 'other'
  | 'eof';

interface Token {
  kind: TokKind;
  val: string;
  pos: number;
  line: number;
}

const KEYWORDS = new Set([
  'block',
  'break',
  'continue',
  'define',
  'else',
  'end',
  'if',
  'nil',
  'range',
  'template',
  'with',
]);
const SPACE = new Set([' ', '\t', '\r', '\n']);

function isSpace(c: string | undefined): boolean {
  return c !== undefined && SPACE.has(c);
}

function isAlphaNumeric(c: string | undefined): boolean {
  return c !== undefined && (c === '_' || /[\p{L}\p{Nd}]/u.test(c));
}

/** Go's `%#U` of a character: `U+007D '}'`. */
function hashU(c: string): string {
  const cp = c.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

function lex(input: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  const lineAt = (at: number): number => {
    let n = 1;
    for (let k = input.indexOf('\n'); k !== -1 && k < at; k = input.indexOf('\n', k + 1)) n++;
    return n;
  };
  function fail(msg: string, at: number): never {
    throw new TemplateSyntaxError(`template: :${lineAt(at)}: ${msg}`);
  }
  const emit = (kind: TokKind, start: number, end: number, val = input.slice(start, end)): void => {
    tokens.push({ kind, val, pos: start, line: lineAt(start) });
  };
  /** Moves past a quoted string or character constant opened at `start` (Go's lexQuote, lexChar). */
  const skipQuoted = (quote: string, unterminated: string, start: number): void => {
    pos++;
    for (;;) {
      const d = input[pos];
      if (d === '\\') {
        pos += 2;
        continue;
      }
      if (d === undefined || d === '\n') fail(unterminated, start);
      pos++;
      if (d === quote) return;
    }
  };
  let trimNextText = false;

  while (pos <= input.length) {
    // Text up to the next left delimiter.
    let next = input.indexOf('{{', pos);
    if (next === -1) next = input.length;
    let textEnd = next;
    const leftTrim = next < input.length && input[next + 2] === '-' && isSpace(input[next + 3]);
    let textStart = pos;
    if (trimNextText) {
      while (textStart < textEnd && isSpace(input[textStart])) textStart++;
      trimNextText = false;
    }
    if (leftTrim) {
      while (textEnd > textStart && isSpace(input[textEnd - 1])) textEnd--;
    }
    if (textEnd > textStart) emit('text', textStart, textEnd);
    if (next >= input.length) break;

    // Left delimiter.
    pos = next + 2;
    if (leftTrim) pos += 2;
    // Comment.
    if (input.startsWith('/*', pos)) {
      const end = input.indexOf('*/', pos + 2);
      if (end === -1) fail('unclosed comment', next);
      pos = end + 2;
      let rtrim = false;
      if (isSpace(input[pos]) && input[pos + 1] === '-' && input.startsWith('}}', pos + 2)) {
        rtrim = true;
        pos += 2;
      }
      if (!input.startsWith('}}', pos)) fail('comment ends before closing delimiter', next);
      pos += 2;
      trimNextText = rtrim;
      continue;
    }
    emit('leftDelim', next, next + 2);

    // Inside the action.
    let parenDepth = 0;
    for (;;) {
      if (isSpace(input[pos]) && input[pos + 1] === '-' && input.startsWith('}}', pos + 2)) {
        if (parenDepth > 0) fail('unclosed left paren', pos);
        emit('rightDelim', pos + 2, pos + 4);
        pos += 4;
        trimNextText = true;
        break;
      }
      if (input.startsWith('}}', pos)) {
        if (parenDepth > 0) fail('unclosed left paren', pos);
        emit('rightDelim', pos, pos + 2);
        pos += 2;
        break;
      }
      const c = input[pos];
      if (c === undefined) fail('unclosed action', pos);
      const start = pos;
      if (isSpace(c)) {
        while (isSpace(input[pos]) && !(input[pos + 1] === '-' && input.startsWith('}}', pos + 2))) pos++;
        if (pos === start) pos++;
        emit('space', start, pos);
        continue;
      }
      switch (c) {
        case '=':
          pos++;
          emit('assign', start, pos);
          continue;
        case ':':
          if (input[pos + 1] !== '=') fail('expected :=', pos);
          pos += 2;
          emit('declare', start, pos);
          continue;
        case '|':
          pos++;
          emit('pipe', start, pos);
          continue;
        case ',':
          pos++;
          emit('comma', start, pos);
          continue;
        case '(':
          pos++;
          parenDepth++;
          emit('lparen', start, pos);
          continue;
        case ')':
          // A stray ')' reaches the parser, which reports it in context (as Go 1.19+ does).
          parenDepth = Math.max(parenDepth - 1, 0);
          pos++;
          emit('rparen', start, pos);
          continue;
        case '"':
          skipQuoted(c, 'unterminated quoted string', start);
          emit('string', start, pos);
          continue;
        case '`': {
          const end = input.indexOf('`', pos + 1);
          if (end === -1) fail('unterminated raw quoted string', start);
          pos = end + 1;
          emit('rawString', start, pos);
          continue;
        }
        case "'":
          skipQuoted(c, 'unterminated character constant', start);
          emit('char', start, pos);
          continue;
        default:
          break;
      }
      if (c === '$' || (c === '.' && !/[0-9]/.test(input[pos + 1] ?? ''))) {
        pos++;
        while (isAlphaNumeric(input[pos])) pos++;
        const val = input.slice(start, pos);
        if (c === '.' && val === '.') {
          emit('dot', start, pos);
          continue;
        }
        const t = input[pos];
        if (!(t === undefined || isSpace(t) || '.,|:)(='.includes(t) || input.startsWith('}}', pos))) {
          fail(`bad character ${hashU(t)}`, pos);
        }
        emit(c === '$' ? 'variable' : 'field', start, pos);
        continue;
      }
      if (c === '+' || c === '-' || c === '.' || /[0-9]/.test(c)) {
        pos++;
        while (/[0-9a-zA-Z_.+-]/.test(input[pos] ?? '')) {
          const d = input[pos] ?? '';
          if ((d === '+' || d === '-') && !/[eEpP]/.test(input[pos - 1] ?? '')) break;
          pos++;
        }
        const text = input.slice(start, pos);
        if (
          !/^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?)$/.test(
            text,
          ) ||
          !/[0-9]/.test(text)
        ) {
          fail(`bad number syntax: "${text}"`, start);
        }
        emit('number', start, pos);
        continue;
      }
      if (isAlphaNumeric(c)) {
        while (isAlphaNumeric(input[pos])) pos++;
        const word = input.slice(start, pos);
        if (KEYWORDS.has(word)) emit('keyword', start, pos);
        else if (word === 'true' || word === 'false') emit('bool', start, pos);
        else emit('identifier', start, pos);
        continue;
      }
      const other = String.fromCodePoint(input.codePointAt(pos) ?? 0);
      if (/^[\x21-\x7e]$/.test(other)) {
        pos++;
        emit('other', start, pos);
        continue;
      }
      fail(`unrecognized character in action: ${hashU(other)}`, pos);
    }
  }
  emit('eof', input.length, input.length);
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// AST

/** A position in the template source, for error messages. */
export interface Pos {
  /** Offset of the node in the template source. */
  pos: number;
  /** 1-based line of the node. */
  line: number;
}

/** An operand of a command. */
export type Arg =
  | (Pos & { type: 'field'; ident: string[] })
  | (Pos & { type: 'variable'; ident: string[] })
  | (Pos & { type: 'chain'; node: Arg; field: string[] })
  | (Pos & { type: 'identifier'; name: string })
  | (Pos & { type: 'dot' })
  | (Pos & { type: 'nil' })
  | (Pos & { type: 'bool'; value: boolean })
  | (Pos & { type: 'number'; text: string; value: number; isInt: boolean })
  | (Pos & { type: 'string'; quoted: string; text: string })
  | (Pos & { type: 'pipe'; pipe: Pipe });

/** One stage of a pipeline: a function or method call, or a single value. */
export interface Command extends Pos {
  args: Arg[];
}

/** A pipeline with optional variable declarations: `$x := .A | printf "%s"`. */
export interface Pipe extends Pos {
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

/** A node of the template tree. */
export type TemplateNode =
  | (Pos & { type: 'text'; text: string })
  | (Pos & { type: 'action'; pipe: Pipe })
  | (Pos & { type: 'if' | 'with' | 'range'; pipe: Pipe; list: TemplateNode[]; elseList?: TemplateNode[] })
  | (Pos & { type: 'break' | 'continue' });

/** The parsed template: its tree and the source it came from (for error positions). */
export interface ParsedTemplate {
  source: string;
  root: TemplateNode[];
}

/** Options for {@link parseTemplate}. */
export interface ParseOptions {
  /** Names of the functions the template may call; a call to any other is a parse error, as in Go. */
  functions: ReadonlySet<string>;
}

type EndKind = 'end' | 'else' | 'eof';

class Parser {
  private i = 0;
  private vars: string[][] = [['$']];
  private rangeDepth = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly functions: ReadonlySet<string>,
  ) {}

  private peek(): Token {
    return this.tokens[this.i] ?? (this.tokens[this.tokens.length - 1] as Token);
  }

  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private nextNonSpace(): Token {
    let t = this.next();
    while (t.kind === 'space') t = this.next();
    return t;
  }

  private peekNonSpace(): Token {
    const save = this.i;
    const t = this.nextNonSpace();
    this.i = save;
    return t;
  }

  private fail(msg: string, line?: number): never {
    throw new TemplateSyntaxError(`template: :${line ?? this.peek().line}: ${msg}`);
  }

  private describe(t: Token): string {
    if (t.kind === 'eof') return 'EOF';
    if (t.kind === 'keyword') return `<${t.val}>`;
    if (t.val.length > 10) return `${JSON.stringify(t.val.slice(0, 10))}...`;
    return JSON.stringify(t.val);
  }

  private unexpected(t: Token, context: string): never {
    this.fail(`unexpected ${this.describe(t)} in ${context}`, t.line);
  }

  parseRoot(): TemplateNode[] {
    const [list, end] = this.itemList(true);
    if (end !== 'eof') this.fail('unexpected EOF');
    return list;
  }

  /** Parses nodes until {{end}}, {{else}} or EOF; returns which one ended the list (consumed, without its right delimiter for else). */
  private itemList(top: boolean): [TemplateNode[], EndKind, Token?] {
    const list: TemplateNode[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') {
        if (!top) this.fail('unexpected EOF');
        return [list, 'eof'];
      }
      if (t.kind === 'text') {
        this.next();
        list.push({ type: 'text', text: t.val, pos: t.pos, line: t.line });
        continue;
      }
      // leftDelim
      this.next();
      const kw = this.peekNonSpace();
      if (kw.kind === 'keyword' && (kw.val === 'end' || kw.val === 'else')) {
        this.nextNonSpace();
        if (top) this.fail(`unexpected {{${kw.val}}}`, kw.line);
        if (kw.val === 'end') {
          this.expectRightDelim('end');
          return [list, 'end', kw];
        }
        return [list, 'else', kw];
      }
      list.push(this.action());
    }
  }

  private expectRightDelim(context: string): void {
    const t = this.nextNonSpace();
    if (t.kind !== 'rightDelim') this.unexpected(t, context);
  }

  private action(): TemplateNode {
    const t = this.peekNonSpace();
    if (t.kind === 'keyword') {
      this.nextNonSpace();
      switch (t.val) {
        case 'if':
        case 'with':
        case 'range':
          return this.control(t.val, t);
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) this.fail(`{{${t.val}}} outside {{range}}`, t.line);
          this.expectRightDelim(t.val);
          return { type: t.val, pos: t.pos, line: t.line };
        case 'template':
        case 'define':
        case 'block':
          this.fail(`{{${t.val}}} is not supported by berth's --format`, t.line);
          break;
        default:
          break;
      }
      this.i--;
    }
    const pipe = this.pipeline('command', true);
    return { type: 'action', pipe, pos: t.pos, line: t.line };
  }

  private control(kind: 'if' | 'with' | 'range', t: Token): TemplateNode {
    this.vars.push([]);
    const pipe = this.pipeline(kind, true);
    if (kind === 'range') this.rangeDepth++;
    let [list, end] = this.itemList(false);
    if (kind === 'range') this.rangeDepth--;
    let elseList: TemplateNode[] | undefined;
    if (end === 'else') {
      const after = this.peekNonSpace();
      // {{else if ...}} / {{else with ...}}: a nested control that shares our {{end}}.
      if (
        after.kind === 'keyword' &&
        (after.val === 'if' || after.val === 'with') &&
        kind !== 'range' &&
        after.val === kind
      ) {
        this.nextNonSpace();
        const nested = this.control(after.val, after);
        elseList = [nested];
        this.vars.pop();
        return { type: kind, pipe, list, elseList, pos: t.pos, line: t.line };
      }
      this.expectRightDelim('else');
      let elseEnd: EndKind;
      [elseList, elseEnd] = this.itemList(false);
      if (elseEnd !== 'end') this.fail('expected end; found {{else}}');
      end = elseEnd;
    }
    this.vars.pop();
    return { type: kind, pipe, list, elseList, pos: t.pos, line: t.line };
  }

  private declareVar(name: string): void {
    this.vars[this.vars.length - 1]?.push(name);
  }

  private hasVar(name: string): boolean {
    return this.vars.some((scope) => scope.includes(name));
  }

  private pipeline(context: string, toRightDelim: boolean): Pipe {
    const start = this.peekNonSpace();
    const pipe: Pipe = { decl: [], isAssign: false, cmds: [], pos: start.pos, line: start.line };
    // Declarations: $x := | $x = | $i, $e :=
    const save = this.i;
    const v = this.nextNonSpace();
    if (v.kind === 'variable') {
      const n = this.nextNonSpace();
      if (n.kind === 'declare' || n.kind === 'assign') {
        pipe.decl.push(v.val);
        pipe.isAssign = n.kind === 'assign';
        if (pipe.isAssign && !this.hasVar(v.val)) this.fail(`undefined variable "${v.val}"`, v.line);
      } else if (n.kind === 'comma' && context === 'range') {
        const v2 = this.nextNonSpace();
        const d = this.nextNonSpace();
        if (v2.kind !== 'variable' || (d.kind !== 'declare' && d.kind !== 'assign')) {
          this.fail('range can only initialize variables', v.line);
        }
        pipe.decl.push(v.val, v2.val);
        pipe.isAssign = d.kind === 'assign';
      } else if (n.kind === 'comma') {
        this.fail(`too many declarations in ${context}`, v.line);
      } else {
        this.i = save;
      }
    } else {
      this.i = save;
    }
    for (;;) {
      const t = this.peekNonSpace();
      if ((toRightDelim && t.kind === 'rightDelim') || (!toRightDelim && t.kind === 'rparen')) {
        this.nextNonSpace();
        break;
      }
      if (t.kind === 'eof') this.fail(toRightDelim ? 'unclosed action' : 'unclosed left paren', t.line);
      if (
        [
          'bool',
          'char',
          'dot',
          'field',
          'identifier',
          'number',
          'string',
          'rawString',
          'variable',
          'lparen',
        ].includes(t.kind) ||
        (t.kind === 'keyword' && t.val === 'nil')
      ) {
        pipe.cmds.push(this.command());
        continue;
      }
      this.unexpected(this.nextNonSpace(), context);
    }
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`, start.line);
    pipe.cmds.forEach((cmd, i) => {
      if (i === 0) return;
      const first = cmd.args[0];
      if (first && ['bool', 'dot', 'nil', 'number', 'string'].includes(first.type)) {
        this.fail(`non executable command in pipeline stage ${i + 1}`, cmd.line);
      }
    });
    for (const name of pipe.decl) if (!pipe.isAssign) this.declareVar(name);
    return pipe;
  }

  private command(): Command {
    const first = this.peekNonSpace();
    const cmd: Command = { args: [], pos: first.pos, line: first.line };
    for (;;) {
      this.peekNonSpace();
      // skip spaces
      while (this.peek().kind === 'space') this.next();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.peek();
      switch (t.kind) {
        case 'space':
          continue;
        case 'rightDelim':
        case 'rparen':
          break;
        case 'pipe':
          this.next();
          break;
        default:
          this.unexpected(t, 'operand');
      }
      break;
    }
    if (cmd.args.length === 0) this.fail('empty command', first.line);
    return cmd;
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().kind !== 'field') return node;
    const fields: string[] = [];
    // Go positions a merged field chain at its second field.
    const chainAt = { pos: this.peek().pos, line: this.peek().line };
    while (this.peek().kind === 'field') fields.push(this.next().val.slice(1));
    switch (node.type) {
      case 'field':
        return { ...node, ...chainAt, ident: [...node.ident, ...fields] };
      case 'variable':
        return { ...node, ...chainAt, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.fail(
          `unexpected . after term "${node.type === 'dot' ? '.' : node.type === 'nil' ? 'nil' : 'text' in node ? node.text : String((node as { value: unknown }).value)}"`,
          node.line,
        );
        break;
      default:
        break;
    }
    return { type: 'chain', node, field: fields, ...chainAt };
  }

  private term(): Arg | undefined {
    const t = this.nextNonSpace();
    const at = { pos: t.pos, line: t.line };
    switch (t.kind) {
      case 'identifier':
        if (!this.functions.has(t.val)) this.fail(`function "${t.val}" not defined`, t.line);
        return { type: 'identifier', name: t.val, ...at };
      case 'dot':
        return { type: 'dot', ...at };
      case 'keyword':
        if (t.val === 'nil') return { type: 'nil', ...at };
        break;
      case 'variable':
        if (!this.hasVar(t.val)) this.fail(`undefined variable "${t.val}"`, t.line);
        return { type: 'variable', ident: [t.val], ...at };
      case 'field':
        return { type: 'field', ident: [t.val.slice(1)], ...at };
      case 'bool':
        return { type: 'bool', value: t.val === 'true', ...at };
      case 'char':
      case 'number':
        return this.number(t);
      case 'string':
      case 'rawString':
        return { type: 'string', quoted: t.val, text: unquote(t, (m) => this.fail(m, t.line)), ...at };
      case 'lparen': {
        const pipe = this.pipeline('parenthesized pipeline', false);
        return { type: 'pipe', pipe, ...at };
      }
      default:
        break;
    }
    this.i--;
    return undefined;
  }

  private number(t: Token): Arg {
    const at = { pos: t.pos, line: t.line };
    if (t.kind === 'char') {
      const s = unquote({ ...t, val: `"${t.val.slice(1, -1).replace(/"/g, '\\"')}"` }, (m) =>
        this.fail(m, t.line),
      );
      const cp = s.codePointAt(0);
      if (cp === undefined || [...s].length !== 1)
        this.fail(`malformed character constant: ${t.val}`, t.line);
      return { type: 'number', text: t.val, value: cp, isInt: true, ...at };
    }
    const text = t.val.replace(/_/g, '');
    let value: number;
    let isInt = false;
    const m = /^([+-]?)0([xXbBoO])(.*)$/.exec(text);
    if (m) {
      const radix = { x: 16, b: 2, o: 8 }[(m[2] ?? 'x').toLowerCase() as 'x' | 'b' | 'o'];
      value = Number.parseInt(m[3] ?? '', radix) * (m[1] === '-' ? -1 : 1);
      isInt = true;
    } else if (/^[+-]?0[0-7]+$/.test(text)) {
      value = Number.parseInt(text, 8);
      isInt = true;
    } else {
      value = Number(text);
      isInt = Number.isInteger(value) && !/[.eE]/.test(text);
      if (!isInt && Number.isInteger(value)) isInt = true;
    }
    if (!Number.isFinite(value)) this.fail(`illegal number syntax: "${t.val}"`, t.line);
    return { type: 'number', text: t.val, value, isInt, ...at };
  }
}

function unquote(t: Token, fail: (msg: string) => never): string {
  if (t.kind === 'rawString') return t.val.slice(1, -1).replace(/\r/g, '');
  const body = t.val.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      a: '\x07',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
      '\\': '\\',
      '"': '"',
      "'": "'",
    };
    if (e !== undefined && e in simple) {
      out += simple[e];
      continue;
    }
    const hexLen = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
    if (hexLen > 0) {
      const hex = body.slice(i + 1, i + 1 + hexLen);
      if (!new RegExp(`^[0-9a-fA-F]{${hexLen}}$`).test(hex)) fail(`invalid syntax: ${t.val}`);
      const cp = Number.parseInt(hex, 16);
      out += e === 'x' ? String.fromCharCode(cp) : String.fromCodePoint(cp);
      i += hexLen;
      continue;
    }
    if (e !== undefined && /[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) fail(`invalid syntax: ${t.val}`);
      out += String.fromCharCode(Number.parseInt(oct, 8));
      i += 2;
      continue;
    }
    fail(`invalid syntax: ${t.val}`);
  }
  return out;
}

/**
 * Parses a Go text/template source. Throws {@link TemplateSyntaxError} with Go's message
 * (`template: :1: function "foo" not defined`).
 */
export function parseTemplate(source: string, options: ParseOptions): ParsedTemplate {
  const tokens = lex(source);
  const parser = new Parser(tokens, options.functions);
  return { source, root: parser.parseRoot() };
}
