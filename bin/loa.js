#!/usr/bin/env node
// The `loa` command: one program, several roles. Runs the compiled code in dist/
// (`npm run build`, done by `npm start`); `LOA_FROM_SOURCE=1` runs the TypeScript
// sources through tsx instead (tests, development).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fromSource = process.env.LOA_FROM_SOURCE === '1';

const commands = {
  server: { file: 'server/main', run: (m, argv) => m.main(argv, process.env) },
  endpoint: { file: 'endpoint/cli', run: (m, argv) => m.runEndpointCli(argv) },
  bench: { file: 'bench/cli', run: (m, argv) => m.runBenchCli(argv) },
};

function usage() {
  return [
    'Usage: loa <command> [options]',
    '',
    'Commands:',
    '  server     run the Loa broadcast server (HTTP API, admin UI, media engine)',
    '  endpoint   run a speaker agent: connects to a server and plays its zone',
    '  bench      measure latency, preemption, sync and CPU against endpoint count',
    '',
    'Run `loa <command> --help` for the options of a command.',
  ].join('\n');
}

async function load(file) {
  if (fromSource) {
    await import('tsx/esm/api').then((api) => api.register());
    return import(pathToFileURL(path.join(root, `${file}.ts`)).href);
  }
  const compiled = path.join(root, 'dist', `${file}.js`);
  if (!existsSync(compiled)) {
    console.error(`loa: ${path.relative(process.cwd(), compiled)} is missing; run \`npm run build\` first (npm start does it for you).`);
    process.exit(2);
  }
  return import(pathToFileURL(compiled).href);
}

const [name, ...argv] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h' || name === 'help') {
  console.log(usage());
  process.exit(name ? 0 : 1);
}
const command = commands[name];
if (!command) {
  console.error(`loa: unknown command "${name}".\n\n${usage()}`);
  process.exit(2);
}
const mod = await load(command.file);
const code = await command.run(mod, argv);
if (typeof code === 'number' && code !== 0) process.exitCode = code;
