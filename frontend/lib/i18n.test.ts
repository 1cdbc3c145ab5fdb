/**
 * The catalogs stay whole: both languages have the same keys, every key the code asks for exists,
 * every key in a catalog is used somewhere, and no UI text is written past the catalog (JSX text,
 * literal words in text props such as title/placeholder/aria-label, toasts and labels).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import en from '../locales/en.json';
import zh from '../locales/zh.json';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLURAL = /_(zero|one|two|few|many|other)$/;

function flatten(obj: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(obj).flatMap(([k, v]) =>
    v && typeof v === 'object' ? flatten(v as Record<string, unknown>, `${prefix}${k}.`) : [`${prefix}${k}`],
  );
}

/** Keys without their plural forms (`tasks.count_one`, `tasks.count_other` -> `tasks.count`). */
function baseKeys(obj: Record<string, unknown>): Set<string> {
  return new Set(flatten(obj).map((k) => k.replace(PLURAL, '')));
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory())
      return ['node_modules', 'out', '.next', 'locales'].includes(e.name) ? [] : sourceFiles(p);
    return /\.(ts|tsx)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')
      ? [p]
      : [];
  });
}

const FILES = sourceFiles(ROOT).map((p) => ({
  path: relative(ROOT, p),
  source: ts.createSourceFile(p, readFileSync(p, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX),
}));

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (c) => walk(c, visit));
}

/** Words a reader would read: two letters in a row (not a lone symbol, number or unit). */
const WORDS = /[A-Za-z]{2,}/;
/** Props that carry text for people (of DOM elements and of the UI's own components). */
const TEXT_PROPS = new Set([
  'title',
  'placeholder',
  'aria-label',
  'aria-description',
  'alt',
  'label',
  'hint',
  'description',
  'confirmLabel',
  'cancelLabel',
  'message',
  'heading',
  'emptyText',
  'text',
]);
/** Literal text that is a name, not a sentence: the same in every language. */
const NAMES = new Set(['aria2', 'aria2p', 'AriaNg', 'BitTorrent', 'HTTP', 'FTP', 'URL', 'API']);
const KEYS = baseKeys(en);

function offenders(): string[] {
  const found: string[] = [];
  for (const { path, source } of FILES) {
    const at = (n: ts.Node) => `${path}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`;
    // A URL example (`https://…`) or a path (`/jsonrpc`) is the same in every language.
    const wordy = (s: string) =>
      WORDS.test(s) && !NAMES.has(s.trim()) && !KEYS.has(s) && !/^([a-z][a-z0-9+.-]*:\/\/|\/)/.test(s.trim());
    walk(source, (n) => {
      if (ts.isJsxText(n) && wordy(n.text)) found.push(`${at(n)} text "${n.text.trim()}"`);
      if (ts.isJsxAttribute(n) && TEXT_PROPS.has(n.name.getText()) && n.initializer) {
        const init = n.initializer;
        const lit = ts.isStringLiteral(init)
          ? init
          : ts.isJsxExpression(init) && init.expression && ts.isStringLiteralLike(init.expression)
            ? init.expression
            : null;
        if (lit && wordy(lit.text)) found.push(`${at(n)} ${n.name.getText()}="${lit.text}"`);
        if (ts.isJsxExpression(init) && init.expression && ts.isTemplateExpression(init.expression)) {
          const parts = [
            init.expression.head.text,
            ...init.expression.templateSpans.map((s) => s.literal.text),
          ];
          if (parts.some(wordy)) found.push(`${at(n)} ${n.name.getText()}={\`${parts.join('…')}\`}`);
        }
      }
      // {'words'} or {`words ${x}`} as a child of an element
      if (ts.isJsxExpression(n) && n.expression && ts.isJsxElement(n.parent)) {
        const e = n.expression;
        if (ts.isStringLiteralLike(e) && wordy(e.text)) found.push(`${at(n)} {"${e.text}"}`);
        if (ts.isTemplateExpression(e)) {
          const parts = [e.head.text, ...e.templateSpans.map((s) => s.literal.text)];
          if (parts.some(wordy)) found.push(`${at(n)} {\`${parts.join('…')}\`}`);
        }
      }
      // toast('words'), toast.error(`words`)
      if (ts.isCallExpression(n)) {
        const callee = n.expression.getText();
        const arg = n.arguments[0];
        if (/^toast(\.\w+)?$/.test(callee) && arg) {
          const text = ts.isStringLiteralLike(arg)
            ? arg.text
            : ts.isTemplateExpression(arg)
              ? [arg.head.text, ...arg.templateSpans.map((s) => s.literal.text)].join('…')
              : null;
          if (text !== null && wordy(text)) found.push(`${at(n)} ${callee}("${text}")`);
        }
      }
      // ({ label = 'words' }) as a component's default
      if (
        ts.isBindingElement(n) &&
        TEXT_PROPS.has(n.name.getText()) &&
        n.initializer &&
        ts.isStringLiteralLike(n.initializer) &&
        wordy(n.initializer.text)
      ) {
        found.push(`${at(n)} default ${n.name.getText()} = "${n.initializer.text}"`);
      }
      // { label: 'words' } in lists of choices, links and columns
      if (
        ts.isPropertyAssignment(n) &&
        TEXT_PROPS.has(n.name.getText()) &&
        ts.isStringLiteralLike(n.initializer) &&
        wordy(n.initializer.text)
      ) {
        found.push(`${at(n)} ${n.name.getText()}: "${n.initializer.text}"`);
      }
    });
  }
  return found;
}

/** Every string literal in the code (keys are used as literals: `t('a.b')` or in key maps), and `en.a.b`. */
function literals(): Set<string> {
  const all = new Set<string>();
  for (const { source } of FILES) {
    walk(source, (n) => {
      if (ts.isStringLiteralLike(n)) all.add(n.text);
      // Server components read the English catalog directly: `en.app.name`.
      if (ts.isPropertyAccessExpression(n) && /^en\.[\w.]+$/.test(n.getText())) all.add(n.getText().slice(3));
    });
  }
  return all;
}

/** The literal first argument of every `t(...)` call. */
function requestedKeys(): { key: string; where: string }[] {
  const keys: { key: string; where: string }[] = [];
  for (const { path, source } of FILES) {
    walk(source, (n) => {
      if (ts.isCallExpression(n) && /^(t|i18n\.t)$/.test(n.expression.getText())) {
        const arg = n.arguments[0];
        if (arg && ts.isStringLiteralLike(arg)) {
          keys.push({
            key: arg.text,
            where: `${path}:${source.getLineAndCharacterOfPosition(n.getStart()).line + 1}`,
          });
        }
      }
    });
  }
  return keys;
}

describe('catalogs', () => {
  const enKeys = baseKeys(en);
  const zhKeys = baseKeys(zh);

  it('English and Chinese have the same keys', () => {
    expect(
      [...enKeys].filter((k) => !zhKeys.has(k)),
      'missing in zh.json',
    ).toEqual([]);
    expect(
      [...zhKeys].filter((k) => !enKeys.has(k)),
      'missing in en.json',
    ).toEqual([]);
  });

  it('every plural has the forms its language needs (English: one and other; Chinese: other)', () => {
    const enAll = new Set(flatten(en));
    const zhAll = new Set(flatten(zh));
    const plurals = [
      ...new Set([...enAll, ...zhAll].filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, ''))),
    ];
    const missing = plurals.flatMap((k) => [
      ...(enAll.has(`${k}_one`) ? [] : [`en ${k}_one`]),
      ...(enAll.has(`${k}_other`) ? [] : [`en ${k}_other`]),
      ...(zhAll.has(`${k}_other`) ? [] : [`zh ${k}_other`]),
    ]);
    expect(missing).toEqual([]);
  });

  it('no sentence is empty', () => {
    const empty = (obj: Record<string, unknown>, lang: string) =>
      flatten(obj)
        .filter((k) => {
          const v = k.split('.').reduce<unknown>((o, p) => (o as Record<string, unknown>)[p], obj);
          // A separator (`listSeparator`) may be blank: Chinese joins sentences without a space.
          return typeof v !== 'string' || (v.trim() === '' && !k.endsWith('Separator'));
        })
        .map((k) => `${lang} ${k}`);
    expect([...empty(en, 'en'), ...empty(zh, 'zh')]).toEqual([]);
  });

  it('every key the code asks for is in the catalogs', () => {
    const missing = requestedKeys().filter(({ key }) => !enKeys.has(key.replace(PLURAL, '')));
    expect(missing.map((m) => `${m.where} ${m.key}`)).toEqual([]);
  });

  it('every key in the catalogs is used by the code', () => {
    const used = literals();
    const usedBase = new Set([...used].map((s) => s.replace(PLURAL, '')));
    expect([...enKeys].filter((k) => !usedBase.has(k))).toEqual([]);
  });

  it('no UI text is written past the catalog', () => {
    expect(offenders()).toEqual([]);
  });
});
