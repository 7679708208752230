/**
 * oslo.policy's rule language, compiled to closures:
 *
 *   rule   := or
 *   or     := and ('or' and)*
 *   and    := not ('and' not)*
 *   not    := 'not' not | atom
 *   atom   := '(' rule ')' | '@' | '!' | check
 *   check  := 'rule:NAME' | 'role:NAME' | KIND ':' MATCH
 *
 * A generic check `KIND:MATCH` compares the credential attribute KIND (dotted
 * paths allowed) with MATCH, which is either a literal (`'quoted'`, True,
 * False, a bare word) or `%(path.in.target)s`. An empty rule always passes.
 */

export type Creds = Record<string, unknown>;
export type Target = Record<string, unknown>;

export interface CheckContext {
  creds: Creds;
  target: Target;
  /** Resolves `rule:NAME` (named rules may refer to each other). */
  rule(name: string, ctx: CheckContext): boolean;
}

export type CompiledRule = (ctx: CheckContext) => boolean;

export class PolicySyntaxError extends Error {}

export function compileRule(text: string): CompiledRule {
  const tokens = tokenize(text);
  if (tokens.length === 0) return () => true;
  let pos = 0;
  const peek = () => tokens[pos];
  const next = () => tokens[pos++];

  function parseOr(): CompiledRule {
    const parts = [parseAnd()];
    while (peek() === 'or') {
      next();
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : (ctx) => parts.some((p) => p(ctx));
  }
  function parseAnd(): CompiledRule {
    const parts = [parseNot()];
    while (peek() === 'and') {
      next();
      parts.push(parseNot());
    }
    return parts.length === 1 ? parts[0]! : (ctx) => parts.every((p) => p(ctx));
  }
  function parseNot(): CompiledRule {
    if (peek() === 'not') {
      next();
      const inner = parseNot();
      return (ctx) => !inner(ctx);
    }
    return parseAtom();
  }
  function parseAtom(): CompiledRule {
    const tok = next();
    if (tok === undefined) throw new PolicySyntaxError(`unexpected end of rule: ${text}`);
    if (tok === '(') {
      const inner = parseOr();
      if (next() !== ')') throw new PolicySyntaxError(`missing ')' in rule: ${text}`);
      return inner;
    }
    if (tok === '@') return () => true;
    if (tok === '!') return () => false;
    return compileCheck(tok, text);
  }

  const rule = parseOr();
  if (pos !== tokens.length) throw new PolicySyntaxError(`unexpected '${tokens[pos]}' in rule: ${text}`);
  return rule;
}

function tokenize(text: string): string[] {
  // Like oslo.policy: split on whitespace, then peel parentheses off the ends of each chunk.
  const out: string[] = [];
  for (const chunk of text.trim().split(/\s+/).filter(Boolean)) {
    let word = chunk;
    let lead = 0;
    while (word.startsWith('(')) {
      lead++;
      word = word.slice(1);
    }
    let trail = 0;
    while (word.endsWith(')') && !/%\([^)]*\)$/.test(word)) {
      trail++;
      word = word.slice(0, -1);
    }
    for (let i = 0; i < lead; i++) out.push('(');
    if (word) out.push(word === 'AND' ? 'and' : word === 'OR' ? 'or' : word === 'NOT' ? 'not' : word);
    for (let i = 0; i < trail; i++) out.push(')');
  }
  return out;
}

function compileCheck(token: string, text: string): CompiledRule {
  const colon = token.indexOf(':');
  if (colon <= 0) throw new PolicySyntaxError(`bad check '${token}' in rule: ${text}`);
  const kind = token.slice(0, colon);
  const match = token.slice(colon + 1);
  if (kind === 'rule') return (ctx) => ctx.rule(match, ctx);
  if (kind === 'role') {
    const wanted = match.toLowerCase();
    if (wanted.startsWith('%(')) {
      const path = targetPath(match);
      return (ctx) => {
        const v = lookup(ctx.target, path);
        return typeof v === 'string' && roles(ctx.creds).includes(v.toLowerCase());
      };
    }
    return (ctx) => roles(ctx.creds).includes(wanted);
  }
  const kindLiteral = pythonLiteral(kind);
  if (kindLiteral !== undefined) {
    // oslo.policy evaluates a literal on the left: `None:%(target.role.domain_id)s` is true when the target value is None.
    if (!match.startsWith('%(')) return () => kindLiteral === match;
    const path = targetPath(match);
    return (ctx) => {
      const v = lookup(ctx.target, path);
      return kindLiteral === (v === undefined || v === null ? 'None' : typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v));
    };
  }
  const credPath = kind.split('.');
  if (match.startsWith('%(')) {
    const path = targetPath(match);
    return (ctx) => {
      const expected = lookup(ctx.target, path);
      const actual = lookup(ctx.creds, credPath);
      return expected !== undefined && expected !== null && actual !== undefined && actual !== null && String(actual) === String(expected);
    };
  }
  const literal = parseLiteral(match);
  return (ctx) => {
    const actual = lookup(ctx.creds, credPath);
    if (Array.isArray(actual)) return actual.some((a) => equalsLiteral(a, literal));
    return equalsLiteral(actual, literal);
  };
}

/** A Python literal on the left of a check, rendered as Python's str() would. */
function pythonLiteral(kind: string): string | undefined {
  if (kind === 'None' || kind === 'True' || kind === 'False') return kind;
  if (/^-?\d+$/.test(kind)) return kind;
  if ((kind.startsWith("'") && kind.endsWith("'")) || (kind.startsWith('"') && kind.endsWith('"'))) return kind.slice(1, -1);
  return undefined;
}

function targetPath(match: string): string[] {
  const m = /^%\(([^)]+)\)s$/.exec(match);
  if (!m) throw new PolicySyntaxError(`bad target reference '${match}'`);
  return m[1]!.split('.');
}

function parseLiteral(match: string): string | boolean {
  if ((match.startsWith("'") && match.endsWith("'")) || (match.startsWith('"') && match.endsWith('"'))) return match.slice(1, -1);
  if (match === 'True') return true;
  if (match === 'False') return false;
  return match;
}

function equalsLiteral(actual: unknown, literal: string | boolean): boolean {
  if (typeof literal === 'boolean') {
    if (typeof actual === 'boolean') return actual === literal;
    if (typeof actual === 'string') return actual.toLowerCase() === String(literal);
    if (typeof actual === 'number') return (actual !== 0) === literal;
    return literal === false && (actual === undefined || actual === null);
  }
  return actual !== undefined && actual !== null && String(actual) === literal;
}

function roles(creds: Creds): string[] {
  const r = creds['roles'];
  return Array.isArray(r) ? (r as string[]) : [];
}

/** Looks up a dotted path; a key containing dots (`target.project.domain_id`) is tried whole first. */
export function lookup(obj: Record<string, unknown>, path: string[]): unknown {
  const whole = path.join('.');
  if (whole in obj) return obj[whole];
  let cur: unknown = obj;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}
