// Writes docs/api.md, the API reference, from the emitted declarations (dist/index.d.ts, so
// only what a user's TypeScript sees): every export of the package with its signature and its
// JSDoc, classes and interfaces member by member, in the order src/index.ts exports them.
//   node scripts/api-doc.mjs          writes docs/api.md (after `npm run build`)
//   node scripts/api-doc.mjs --check  exits 1 if docs/api.md is not what it would write
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { root } from './lib/paths.mjs';

const ENTRY = join(root, 'dist', 'index.d.ts');
const OUT = join(root, 'docs', 'api.md');

const program = ts.createProgram([ENTRY], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [], skipLibCheck: true });
const checker = program.getTypeChecker();
const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(ENTRY));
const FORMAT = ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.WriteArrowStyleSignature | ts.TypeFormatFlags.UseAliasDefinedOutsideCurrentScope;

const resolve = (symbol) => (symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol);
const doc = (symbol) => ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
const tags = (symbol) =>
  symbol
    .getJsDocTags(checker)
    .filter((t) => t.name !== 'internal')
    .map((t) => `@${t.name}${t.text ? ` ${ts.displayPartsToString(t.text)}` : ''}`);

/** The declaration's own text, one line, without its JSDoc and body. */
function declarationText(decl) {
  const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });
  let text = printer.printNode(ts.EmitHint.Unspecified, decl, decl.getSourceFile());
  text = text.replace(/^export declare |^export |^declare /, '');
  return text.replace(/\s+/g, ' ').replace(/ \{ \}$/, '').replace(/;$/, '').trim();
}

function describe(symbol) {
  const lines = [doc(symbol), ...tags(symbol)].filter(Boolean);
  return lines.length === 0 ? '' : `${lines.join('\n\n')}\n`;
}

function memberLines(symbol) {
  const out = [];
  const members = [...(symbol.exports?.values() ?? []), ...(symbol.members?.values() ?? [])];
  for (const member of members) {
    const name = member.getName();
    if (name === 'prototype' || name === '__constructor' || name.startsWith('#') || name === '__index') continue;
    // every overload on a line of its own, each with its own JSDoc (a body has none)
    const decls = (member.getDeclarations() ?? []).filter((d) => !(ts.getCombinedModifierFlags(d) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)));
    const overloads = decls.filter((d) => !(ts.isMethodDeclaration(d) && d.body !== undefined && decls.length > 1));
    for (const decl of overloads) {
      const own = ts.getJSDocCommentsAndTags(decl).filter(ts.isJSDoc).map((j) => (typeof j.comment === 'string' ? j.comment : ts.getTextOfJSDocComment(j.comment) ?? '')).join(' ').trim();
      const text = overloads.length > 1 ? own : doc(member);
      out.push(`- \`${declarationText(decl)}\`${text ? `: ${text.replace(/\n+/g, ' ')}` : ''}`);
    }
  }
  return out;
}

function section(name, symbol) {
  const decls = symbol.getDeclarations() ?? [];
  const decl = decls[0];
  if (decl === undefined) return '';
  let out = `### \`${name}\`\n\n`;
  if (ts.isClassDeclaration(decl) || ts.isInterfaceDeclaration(decl)) {
    const head = declarationText(decl).replace(/ \{.*$/, '');
    out += `\`${head}\`\n\n${describe(symbol)}`;
    const members = memberLines(symbol);
    if (members.length > 0) out += `\n${members.join('\n')}\n`;
    return out;
  }
  if (ts.isModuleDeclaration(decl) || ts.isSourceFile(decl)) {
    out += describe(symbol);
    for (const [inner, innerSymbol] of checker.getExportsOfModule(symbol).map((s) => [s.getName(), resolve(s)])) {
      const innerDecl = innerSymbol.getDeclarations()?.[0];
      if (innerDecl === undefined) continue;
      out += `\n- \`${name}.${declarationText(innerDecl)}\`${doc(innerSymbol) ? `: ${doc(innerSymbol).replace(/\n+/g, ' ')}` : ''}`;
    }
    return `${out}\n`;
  }
  const texts = decls.filter((d) => !ts.isModuleDeclaration(d)).map((d) => (ts.isVariableDeclaration(d) ? `const ${d.name.getText()}: ${checker.typeToString(checker.getTypeAtLocation(d), d, FORMAT)}` : declarationText(d)));
  out += `${texts.map((t) => `\`\`\`ts\n${t}\n\`\`\``).join('\n')}\n\n${describe(symbol)}`;
  return out;
}

const parts = [];
for (const exported of checker.getExportsOfModule(moduleSymbol)) parts.push(section(exported.getName(), resolve(exported)));

// Every type a public signature names must be exported too, or a user cannot name it.
const exportedNames = new Set(checker.getExportsOfModule(moduleSymbol).map((s) => s.getName()));
const declaredTypes = new Set();
for (const file of program.getSourceFiles()) {
  if (!file.fileName.startsWith(join(root, 'dist'))) continue;
  for (const statement of file.statements) {
    if ((ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) && statement.name !== undefined) declaredTypes.add(statement.name.text);
  }
}
// (the signatures only: a member's backticked declaration, a function's or constant's; not
// descriptions, and not the bodies of exported type aliases, whose helpers need no name)
const signatures = [...parts.join('\n').matchAll(/^- `(.*?)`(?::|$)|^(?:function|const) .*$/gm)].map((m) => m[1] ?? m[0]).join('\n');
const unexported = [...declaredTypes].filter((name) => !exportedNames.has(name) && new RegExp(`\\b${name}\\b`).test(signatures));


const text = `# API reference

Every export of \`shmring\`, as its TypeScript declarations give it (this file is generated from
\`dist/index.d.ts\` by \`scripts/api-doc.mjs\`; \`npm test\` checks that it is current). The
README shows how the parts fit together; [GUARANTEES.md](GUARANTEES.md) what holds when things go
wrong.

${parts.join('\n')}`.replace(/\n{3,}/g, '\n\n');

if (unexported.length > 0) {
  console.error(`types named in public signatures but not exported from src/index.ts: ${unexported.join(', ')}`);
  if (process.argv.includes('--check')) process.exit(1);
}
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(OUT, 'utf8');
  } catch {}
  if (current !== text) {
    console.error('docs/api.md is not current: run `npm run build && node scripts/api-doc.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(OUT, text);
  console.log(`docs/api.md: ${parts.length} exports`);
}
