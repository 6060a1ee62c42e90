import { formatGoValue } from './fmt.js';
import type { Arg, Command, ParsedTemplate, Pipe, TemplateNode } from './parse.js';
import { goTypeName, isTrue, kindOf, mapEntries, sliceItems } from './values.js';

/**
 * The evaluator of a parsed template, after Go's text/template/exec.go: field chains, map keys,
 * methods, pipelines (the previous value is the last argument of the next command), variables,
 * if/with/range with else, break/continue, and typed function arguments.
 */

/** An execution error; `message` is Go's text (`template: :1:2: executing "" at <.A.B>: ...`). */
export class TemplateExecError extends Error {
  override name = 'TemplateExecError';
}

/** The type of a function parameter, as far as argument checking needs it. */
export type ParamType = 'any' | 'value' | 'string' | 'int' | 'strings';

/** A function callable from a template. */
export interface TemplateFunc {
  /** Fixed parameters. */
  params: ParamType[];
  /** Type of the trailing variadic parameter, if any. */
  variadic?: ParamType;
  /** The implementation; throwing an `Error` becomes `error calling <name>: <message>`. */
  fn: (...args: unknown[]) => unknown;
  /** `and`/`or` evaluate their arguments lazily, as Go 1.18+ does. */
  special?: 'and' | 'or';
}

const NO_FINAL = Symbol('no final');
type Final = unknown | typeof NO_FINAL;

class BreakSignal {}
class ContinueSignal {}

/** Where execution is, for error messages; the text is built only when an error needs it. */
interface ExecNode {
  pos: number;
  text: () => string;
}

function argString(a: Arg): string {
  switch (a.type) {
    case 'field':
      return a.ident.map((f) => `.${f}`).join('');
    case 'variable':
      return (
        a.ident[0] +
        a.ident
          .slice(1)
          .map((f) => `.${f}`)
          .join('')
      );
    case 'chain': {
      const inner = a.node.type === 'pipe' ? `(${pipeString(a.node.pipe)})` : argString(a.node);
      return inner + a.field.map((f) => `.${f}`).join('');
    }
    case 'identifier':
      return a.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(a.value);
    case 'number':
      return a.text;
    case 'string':
      return a.quoted;
    case 'pipe':
      return `(${pipeString(a.pipe)})`;
  }
}

function commandString(c: Command): string {
  return c.args.map(argString).join(' ');
}

function pipeString(p: Pipe): string {
  const decl = p.decl.length > 0 ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(commandString).join(' | ');
}

class State {
  private vars: Array<{ name: string; value: unknown }>;
  private node: ExecNode = { pos: 0, text: () => '' };
  private out = '';

  constructor(
    private readonly tmpl: ParsedTemplate,
    private readonly funcs: ReadonlyMap<string, TemplateFunc>,
    data: unknown,
  ) {
    this.vars = [{ name: '$', value: data }];
  }

  run(data: unknown): string {
    this.walkList(data, this.tmpl.root);
    return this.out;
  }

  private at(pos: number, text: () => string): void {
    this.node = { pos, text };
  }

  private atArg(a: Arg): void {
    this.at(a.pos, () => argString(a));
  }

  private fail(msg: string): never {
    const src = this.tmpl.source;
    const before = src.slice(0, this.node.pos);
    const nl = before.lastIndexOf('\n');
    const line = 1 + (before.match(/\n/g)?.length ?? 0);
    const col = nl === -1 ? this.node.pos : this.node.pos - (nl + 1);
    let ctx = this.node.text();
    if (ctx.length > 20) ctx = `${ctx.slice(0, 20)}...`;
    throw new TemplateExecError(`template: :${line}:${col}: executing "" at <${ctx}>: ${msg}`);
  }

  private mark(): number {
    return this.vars.length;
  }

  private pop(mark: number): void {
    this.vars.length = mark;
  }

  private push(name: string, value: unknown): void {
    this.vars.push({ name, value });
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v && v.name === name) {
        v.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v && v.name === name) return v.value;
    }
    return this.fail(`undefined variable: ${name}`);
  }

  private walkList(dot: unknown, list: TemplateNode[]): void {
    for (const node of list) this.walk(dot, node);
  }

  private walk(dot: unknown, node: TemplateNode): void {
    switch (node.type) {
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node.pipe, val);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.mark();
        const val = this.evalPipeline(dot, node.pipe);
        if (isTrue(val)) {
          this.walkList(node.type === 'with' ? val : dot, node.list);
        } else if (node.elseList) {
          this.walkList(dot, node.elseList);
        }
        this.pop(mark);
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  private walkRange(dot: unknown, node: Extract<TemplateNode, { type: 'if' | 'with' | 'range' }>): void {
    this.at(node.pos, () => `{{range ${pipeString(node.pipe)}}}`);
    const mark = this.mark();
    const val = this.evalPipeline(dot, { ...node.pipe, decl: [] });
    const decl = node.pipe.decl;
    const oneIteration = (key: unknown, elem: unknown): boolean => {
      const iterMark = this.mark();
      if (decl.length === 1) {
        if (node.pipe.isAssign) this.setVar(decl[0] as string, elem);
        else this.push(decl[0] as string, elem);
      } else if (decl.length === 2) {
        if (node.pipe.isAssign) {
          this.setVar(decl[0] as string, key);
          this.setVar(decl[1] as string, elem);
        } else {
          this.push(decl[0] as string, key);
          this.push(decl[1] as string, elem);
        }
      }
      try {
        this.walkList(elem, node.list);
      } catch (e) {
        if (e instanceof BreakSignal) return false;
        if (!(e instanceof ContinueSignal)) throw e;
      } finally {
        this.pop(iterMark);
      }
      return true;
    };
    let ran = false;
    const kind = kindOf(val);
    switch (kind) {
      case 'slice': {
        const items = sliceItems(val);
        for (let i = 0; i < items.length; i++) {
          ran = true;
          if (!oneIteration(i, items[i])) break;
        }
        break;
      }
      case 'map':
        for (const [k, v] of mapEntries(val as object)) {
          ran = true;
          if (!oneIteration(k, v)) break;
        }
        break;
      case 'int': {
        const n = Number(val);
        if (decl.length > 1)
          this.fail(`can't use ${formatGoValue(val)} to iterate over more than one variable`);
        for (let i = 0; i < n; i++) {
          ran = true;
          if (!oneIteration(i, i)) break;
        }
        break;
      }
      case 'invalid':
      case 'nil':
        break;
      default:
        this.fail(`range can't iterate over ${formatGoValue(val)}`);
    }
    if (!ran && node.elseList) this.walkList(dot, node.elseList);
    this.pop(mark);
  }

  private printValue(pipe: Pipe, val: unknown): void {
    if (val === undefined || val === null) {
      this.out += '<no value>';
      return;
    }
    if (typeof val === 'function') {
      this.at(pipe.pos, () => pipeString(pipe));
      this.fail(`can't print ${pipeString(pipe)} of type ${goTypeName(val)}`);
    }
    this.out += formatGoValue(val);
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    this.at(pipe.pos, () => pipeString(pipe));
    let value: unknown = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    // A nil interface digs down to "no value", as Go's reflect.ValueOf(nil) does.
    if (value === null) value = undefined;
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.push(name, value);
    }
    return value;
  }

  private notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) {
      this.fail(`can't give argument to non-function ${argString(args[0] as Arg)}`);
    }
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0] as Arg;
    switch (first.type) {
      case 'field':
        this.atArg(first);
        return this.evalFieldChain(dot, dot, first.ident, cmd.args, final);
      case 'chain': {
        this.atArg(first);
        const recv = this.evalArg(dot, first.node, 'any');
        if (recv === undefined) this.fail(`indirection through explicit nil in ${argString(first)}`);
        return this.evalFieldChain(dot, recv, first.field, cmd.args, final);
      }
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first.pipe);
      case 'variable': {
        this.atArg(first);
        const value = this.varValue(first.ident[0] as string);
        if (first.ident.length === 1) {
          this.notAFunction(cmd.args, final);
          return value;
        }
        return this.evalFieldChain(dot, value, first.ident.slice(1), cmd.args, final);
      }
      default:
        break;
    }
    this.atArg(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.fail('nil is not a command');
      case 'number':
        return first.value;
      case 'string':
        return first.text;
    }
  }

  private evalFieldChain(
    dot: unknown,
    receiver: unknown,
    ident: string[],
    args: Arg[],
    final: Final,
  ): unknown {
    let recv = receiver;
    let fromMap = false;
    for (let i = 0; i < ident.length - 1; i++) {
      const parentIsMap = kindOf(recv) === 'map';
      recv = this.evalField(dot, ident[i] as string, [], NO_FINAL, recv, fromMap);
      fromMap = parentIsMap;
    }
    return this.evalField(dot, ident[ident.length - 1] as string, args, final, recv, fromMap);
  }

  /** `fromMap`: the receiver came out of a map, so Go sees its static type as `interface {}`. */
  private evalField(
    dot: unknown,
    name: string,
    args: Arg[],
    final: Final,
    receiver: unknown,
    fromMap = false,
  ): unknown {
    if (receiver === undefined) return undefined;
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== NO_FINAL;
    const kind = kindOf(receiver);
    if (kind === 'map' || kind === 'struct' || kind === 'time') {
      const obj = receiver as Record<string, unknown>;
      let member: unknown;
      let present: boolean;
      if (receiver instanceof Map) {
        present = receiver.has(name);
        member = receiver.get(name);
      } else {
        present = kind === 'map' ? Object.hasOwn(obj, name) || name in obj : name in obj;
        member = present ? obj[name] : undefined;
      }
      if (typeof member === 'function') {
        return this.callFunction(
          dot,
          name,
          {
            params: [],
            variadic: 'any',
            fn: (...a) => (member as (...x: unknown[]) => unknown).apply(receiver, a),
          },
          args.slice(1),
          final,
          args,
        );
      }
      if (kind === 'map') {
        if (hasArgs) this.fail(`${name} is not a method but has arguments`);
        return present ? member : undefined;
      }
      if (!present || kind === 'time')
        this.fail(`can't evaluate field ${name} in type ${goTypeName(receiver)}`);
      if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`);
      return member;
    }
    return this.fail(
      `can't evaluate field ${name} in type ${fromMap ? 'interface {}' : goTypeName(receiver)}`,
    );
  }

  private evalFunction(
    dot: unknown,
    ident: Extract<Arg, { type: 'identifier' }>,
    cmd: Command,
    args: Arg[],
    final: Final,
  ): unknown {
    this.atArg(ident);
    const fn = this.funcs.get(ident.name);
    if (!fn) return this.fail(`"${ident.name}" is not a defined function`);
    return this.callFunction(dot, ident.name, fn, args.slice(1), final, cmd.args, cmd);
  }

  private callFunction(
    dot: unknown,
    name: string,
    fn: TemplateFunc,
    args: Arg[],
    final: Final,
    all: Arg[],
    cmd?: Command,
  ): unknown {
    const numIn = args.length + (final === NO_FINAL ? 0 : 1);
    const fixed = fn.params.length;
    if (fn.variadic !== undefined) {
      if (numIn < fixed) this.fail(`wrong number of args for ${name}: want at least ${fixed} got ${numIn}`);
    } else if (numIn !== fixed) {
      this.fail(`wrong number of args for ${name}: want ${fixed} got ${numIn}`);
    }
    const typeAt = (i: number): ParamType =>
      i < fixed ? (fn.params[i] as ParamType) : (fn.variadic ?? 'any');
    if (fn.special) {
      // and/or: evaluate lazily and return the deciding operand.
      const values: Array<() => unknown> = args.map((a) => () => this.evalArg(dot, a, 'any'));
      if (final !== NO_FINAL) values.push(() => final);
      let v: unknown;
      for (const get of values) {
        v = get();
        if (fn.special === 'and' ? !isTrue(v) : isTrue(v)) return v;
      }
      return v;
    }
    const argv = args.map((a, i) => this.evalArg(dot, a, typeAt(i)));
    if (final !== NO_FINAL) argv.push(this.validateType(final, typeAt(argv.length)));
    try {
      return fn.fn(...argv);
    } catch (e) {
      if (cmd) this.at(cmd.pos, () => commandString(cmd));
      else this.at(all[0]?.pos ?? 0, () => all.map(argString).join(' '));
      const msg = e instanceof Error ? e.message : String(e);
      return this.fail(`error calling ${name}: ${msg}`);
    }
  }

  private validateType(value: unknown, type: ParamType): unknown {
    if (value === undefined) {
      if (type === 'any' || type === 'strings') return type === 'strings' ? null : undefined;
      return this.fail(`invalid value; expected ${type === 'value' ? 'reflect.Value' : type}`);
    }
    switch (type) {
      case 'any':
      case 'value':
        return value;
      case 'string':
        if (typeof value === 'string') return value;
        break;
      case 'int':
        if (kindOf(value) === 'int') return Number(value);
        break;
      case 'strings':
        if (value === null) return null;
        if (Array.isArray(value) && value.every((x) => typeof x === 'string')) return value;
        break;
    }
    const want = type === 'strings' ? '[]string' : type;
    return this.fail(`wrong type for value; expected ${want}; got ${goTypeName(value)}`);
  }

  private evalArg(dot: unknown, a: Arg, type: ParamType): unknown {
    this.atArg(a);
    switch (a.type) {
      case 'dot':
        return this.validateType(dot, type);
      case 'nil':
        if (type === 'any' || type === 'strings') return null;
        return this.fail(`cannot assign nil to ${type === 'value' ? 'reflect.Value' : type}`);
      case 'field':
        return this.validateType(this.evalFieldChain(dot, dot, a.ident, [a], NO_FINAL), type);
      case 'variable': {
        const v = this.varValue(a.ident[0] as string);
        const val = a.ident.length === 1 ? v : this.evalFieldChain(dot, v, a.ident.slice(1), [a], NO_FINAL);
        return this.validateType(val, type);
      }
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, a.pipe), type);
      case 'identifier': {
        const fn = this.funcs.get(a.name);
        if (!fn) return this.fail(`"${a.name}" is not a defined function`);
        return this.validateType(this.callFunction(dot, a.name, fn, [], NO_FINAL, [a]), type);
      }
      case 'chain': {
        const recv = this.evalArg(dot, a.node, 'any');
        if (recv === undefined) this.fail(`indirection through explicit nil in ${argString(a)}`);
        return this.validateType(this.evalFieldChain(dot, recv, a.field, [a], NO_FINAL), type);
      }
      default:
        break;
    }
    switch (type) {
      case 'any':
      case 'value':
        if (a.type === 'bool') return a.value;
        if (a.type === 'number') return a.value;
        return (a as Extract<Arg, { type: 'string' }>).text;
      case 'string':
        if (a.type === 'string') return a.text;
        return this.fail(`expected string; found ${argString(a)}`);
      case 'int':
        if (a.type === 'number' && a.isInt) return a.value;
        return this.fail(`expected integer; found ${argString(a)}`);
      case 'strings':
        return this.fail(`can't handle ${argString(a)} for arg of type []string`);
    }
  }
}

/** Executes a parsed template against `data` and returns the output; throws {@link TemplateExecError}. */
export function executeTemplate(
  tmpl: ParsedTemplate,
  data: unknown,
  funcs: ReadonlyMap<string, TemplateFunc>,
): string {
  return new State(tmpl, funcs, data).run(data);
}
