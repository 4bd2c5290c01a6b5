// `npm run docs`: the API reference (docs/api/, not committed) with TypeDoc, configured in typedoc.json.
// TypeDoc needs the TypeScript compiler API, which TypeScript 7 (the build's compiler) no longer ships as `typescript`.
// The devDependency `typescript6` (an npm alias of typescript@6) provides it: a resolve hook sends TypeDoc's imports
// of `typescript` there, so the build keeps TypeScript 7 and TypeDoc gets 6. (package.json's `overrides` entry only
// lets npm accept TypeDoc's peer range beside TypeScript 7; the hook is what TypeDoc actually loads.)
import { register } from 'node:module';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const typescript6 = pathToFileURL(require.resolve('typescript6')).href;
const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === 'typescript') return { url: ${JSON.stringify(typescript6)}, shortCircuit: true };
  return next(specifier, context);
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);

const typedoc = dirname(require.resolve('typedoc/package.json'));
await import(pathToFileURL(join(typedoc, 'dist', 'cli.js')).href);
