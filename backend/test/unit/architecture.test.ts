/**
 * The layering rules of backend/src (docs/architecture.md, "Folders and what each may import"),
 * checked over the source itself: no process, no database, just the TypeScript parser over every file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src');

/** Background work, the socket hub and the fastify plugins reach data through services only. */
const NO_DATA_ACCESS = ['jobs', 'realtime', 'plugins', 'rpc'];
const DATA_FOLDERS = ['repositories', 'db'];
/** Kysely's query starters: writing one of these is writing SQL. */
const QUERY_BUILDERS = new Set([
  'selectFrom',
  'insertInto',
  'replaceInto',
  'updateTable',
  'deleteFrom',
  'mergeInto',
]);
/**
 * An aria2 JSON-RPC method name in a string (or the start of a template, `aria2.${verb}`). Only the
 * aria2 client knows them, and the aria2-compatible `/jsonrpc` endpoint (an `rpc/` folder) speaks them.
 */
const ARIA2_METHOD =
  /(?:^|[^\w.])(aria2\.(?:[a-z][A-Za-z]*|$)|system\.(?:multicall|listMethods|listNotifications))/;
const ARIA2_FOLDERS = ['aria2'];
/**
 * What the pure rules may use besides each other: hashing, address and path arithmetic (no I/O), and
 * the daemon-neutral state types (types only).
 */
const DOMAIN_PACKAGES = new Set(['node:crypto', 'node:net', 'node:path', '@node-rs/argon2']);
const DOMAIN_TYPE_IMPORTS = new Set(['gateway/types.ts']);

interface Import {
  specifier: string;
  /** The backend/src file it names (relative, with `/`), or null for a package or a missing file. */
  target: string | null;
  typeOnly: boolean;
  line: number;
}

interface Parsed {
  file: string;
  imports: Import[];
  /** `line: what` for each bit of SQL written in the file. */
  sql: string[];
  /** `line: text` of each string naming an aria2 method. */
  aria2Names: string[];
}

/** The top folder of a backend/src file (`''` for app.ts, main.ts and the like). */
function folderOf(file: string): string {
  const slash = file.indexOf('/');
  return slash === -1 ? '' : file.slice(0, slash);
}

function isRpcFile(file: string): boolean {
  return file.split('/').slice(0, -1).includes('rpc');
}

/** Resolves a relative import (`./x.js`, `../y/index.js`, `./z`) to the .ts file it compiles from. */
function resolve(from: string, specifier: string, exists: (file: string) => boolean): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`];
  return candidates.find(exists) ?? null;
}

function parse(file: string, text: string, exists: (file: string) => boolean): Parsed {
  // Comments are not parsed as JSDoc: nothing here reads them, and it halves the parse time.
  const options = {
    languageVersion: ts.ScriptTarget.Latest,
    jsDocParsingMode: ts.JSDocParsingMode.ParseNone,
  };
  const source = ts.createSourceFile(file, text, options, true, ts.ScriptKind.TS);
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const parsed: Parsed = { file, imports: [], sql: [], aria2Names: [] };
  const addImport = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    parsed.imports.push({
      specifier: specifier.text,
      target: resolve(file, specifier.text, exists),
      typeOnly,
      line: lineOf(node),
    });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      // `import type {…}`, or `import {type A, type B}` with nothing else: erased at compile time.
      const typeOnly =
        !!clause &&
        (clause.isTypeOnly ||
          (!clause.name &&
            !!clause.namedBindings &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      addImport(node, node.moduleSpecifier, typeOnly);
      if (node.moduleSpecifier.getText(source).slice(1, -1) === 'kysely' && clause?.namedBindings) {
        const bindings = clause.namedBindings;
        if (
          !clause.isTypeOnly &&
          ts.isNamedImports(bindings) &&
          bindings.elements.some((e) => !e.isTypeOnly && (e.propertyName ?? e.name).text === 'sql')
        ) {
          parsed.sql.push(`${lineOf(node)}: imports Kysely's sql tag`);
        }
      }
    } else if (ts.isExportDeclaration(node)) {
      addImport(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      addImport(node, node.moduleReference.expression, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      addImport(node, node.arguments[0], false);
    } else if (ts.isImportTypeNode(node)) {
      // `import('../x.js').T` in a type position.
      const arg = node.argument;
      if (ts.isLiteralTypeNode(arg)) addImport(node, arg.literal as ts.Expression, true);
    } else if (ts.isTaggedTemplateExpression(node) && /^sql\b/.test(node.tag.getText(source))) {
      parsed.sql.push(`${lineOf(node)}: ${node.tag.getText(source)}\`…\``);
    } else if (ts.isPropertyAccessExpression(node) && QUERY_BUILDERS.has(node.name.text)) {
      parsed.sql.push(`${lineOf(node)}: .${node.name.text}`);
    }
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      const match = ARIA2_METHOD.exec(node.text);
      if (match && !ts.isImportDeclaration(node.parent) && !ts.isExportDeclaration(node.parent)) {
        parsed.aria2Names.push(`${lineOf(node)}: '${match[1]}'`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return parsed;
}

/** The rules' violations in a set of backend/src files (relative path -> source), each naming file and line. */
function checkLayering(files: ReadonlyMap<string, string>): string[] {
  const exists = (file: string) => files.has(file);
  const parsed = [...files].map(([file, text]) => parse(file, text, exists));
  const problems: string[] = [];
  const at = (p: Parsed, i: Import) => `${p.file}:${i.line} imports '${i.specifier}'`;

  for (const p of parsed) {
    const folder = folderOf(p.file);
    for (const i of p.imports) {
      if (i.specifier.startsWith('.') && !i.target)
        problems.push(`${at(p, i)}, which is no backend/src file`);
      const targetFolder = i.target ? folderOf(i.target) : null;
      if (NO_DATA_ACCESS.includes(folder) && targetFolder && DATA_FOLDERS.includes(targetFolder)) {
        problems.push(`${at(p, i)}: ${folder}/ goes through services, not ${targetFolder}/`);
      }
      if (folder === 'domain') {
        const allowed = i.target
          ? targetFolder === 'domain' || (i.typeOnly && DOMAIN_TYPE_IMPORTS.has(i.target))
          : DOMAIN_PACKAGES.has(i.specifier);
        if (!allowed) problems.push(`${at(p, i)}: domain/ uses only domain/ files`);
      }
    }
    if (!DATA_FOLDERS.includes(folder)) {
      for (const s of p.sql) problems.push(`${p.file}:${s}: SQL belongs in repositories/ or db/`);
    }
    if (!ARIA2_FOLDERS.includes(folder) && !isRpcFile(p.file)) {
      for (const s of p.aria2Names) problems.push(`${p.file}:${s}: only aria2/ names aria2's methods`);
    }
  }

  // Import cycles: a depth-first walk over the file graph (type-only imports included: a cycle of
  // types still ties the two folders together).
  const graph = new Map(parsed.map((p) => [p.file, p.imports.flatMap((i) => (i.target ? [i.target] : []))]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const walk = (file: string) => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of new Set(graph.get(file) ?? [])) {
      if (state.get(next) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        // One report per cycle, whichever file the walk entered it by.
        const key = [...cycle.slice(0, -1)].sort().join(' ');
        if (!seen.has(key)) {
          seen.add(key);
          problems.push(`import cycle: ${cycle.join(' -> ')}`);
        }
      } else if (!state.has(next)) {
        walk(next);
      }
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) walk(file);
  return problems;
}

/** Every TypeScript file of backend/src, by its path relative to it. */
function readSources(): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of fs.readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(SRC, full).split(path.sep).join('/'), fs.readFileSync(full, 'utf8'));
  }
  return files;
}

describe('the layering of backend/src', () => {
  it('keeps every folder to its rule, with no import cycle', () => {
    const files = readSources();
    // The walk saw the real tree (a wrong root would pass on nothing).
    expect(files.has('app.ts')).toBe(true);
    expect([...files.keys()].filter((f) => f.startsWith('domain/')).length).toBeGreaterThan(3);
    expect(checkLayering(files)).toEqual([]);
  });

  it('names the file, line and import of each kind of violation', () => {
    const files = new Map<string, string>([
      ['app.ts', "import { start } from './jobs/sync.js';\nstart();\n"],
      ['repositories/tasks.ts', "import { sql } from 'kysely';\nexport const q = sql`select 1`;\n"],
      ['db/index.ts', 'export const db = {};\n'],
      ['gateway/types.ts', 'export type State = string;\n'],
      ['aria2/client.ts', "export const m = 'aria2.addUri';\n"],
      ['rpc/methods.ts', "export const names = ['aria2.tellStatus', 'system.multicall'];\n"],
      [
        'jobs/sync.ts',
        [
          "import { q } from '../repositories/tasks.js';",
          "import type { db } from '../db/index.js';",
          "import { helper } from './helper.js';",
          'export function start() { helper(); return q; }',
        ].join('\n'),
      ],
      ['jobs/helper.ts', "import { start } from './sync.js';\nexport function helper() { return start; }\n"],
      [
        'services/tasks.ts',
        [
          "import { sql } from 'kysely';",
          '// aria2.tellStatus in a comment is fine',
          'export const a = (db: any) => db.selectFrom("tasks").execute();',
          'export const b = sql<number>`select 2`;',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the fixture's source holds a template
          'export const c = `aria2.${"pause"}`;',
          "export const d = 'system.multicall';",
        ].join('\n'),
      ],
      [
        'domain/rules.ts',
        [
          "import fs from 'node:fs';",
          "import type { State } from '../gateway/types.js';",
          "import { db } from '../db/index.js';",
          "import { hash } from '@node-rs/argon2';",
          "import { other } from './other.js';",
        ].join('\n'),
      ],
      ['domain/other.ts', 'export const other = 1;\n'],
      ['domain/value-import.ts', "import { State } from '../gateway/types.js';\n"],
    ]);
    expect(checkLayering(files).sort()).toEqual(
      [
        "jobs/sync.ts:1 imports '../repositories/tasks.js': jobs/ goes through services, not repositories/",
        "jobs/sync.ts:2 imports '../db/index.js': jobs/ goes through services, not db/",
        "services/tasks.ts:1: imports Kysely's sql tag: SQL belongs in repositories/ or db/",
        'services/tasks.ts:3: .selectFrom: SQL belongs in repositories/ or db/',
        'services/tasks.ts:4: sql`…`: SQL belongs in repositories/ or db/',
        "services/tasks.ts:5: 'aria2.': only aria2/ names aria2's methods",
        "services/tasks.ts:6: 'system.multicall': only aria2/ names aria2's methods",
        "domain/rules.ts:1 imports 'node:fs': domain/ uses only domain/ files",
        "domain/rules.ts:3 imports '../db/index.js': domain/ uses only domain/ files",
        "domain/value-import.ts:1 imports '../gateway/types.js': domain/ uses only domain/ files",
        'import cycle: jobs/sync.ts -> jobs/helper.ts -> jobs/sync.ts',
      ].sort(),
    );
  });
});
