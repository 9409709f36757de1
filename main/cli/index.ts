#!/usr/bin/env node
// Entry point of the `operator-companion` command. It checks the Node version before anything loads the
// native SQLite module, which crashes older Node without a word.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 14)) {
  process.stderr.write(
    `operator-companion: needs Node 22.14 or newer, this is ${process.versions.node}; ` +
      'run it with npx inside the project (which uses the project\'s Node 24) or install a newer Node\n',
  );
  process.exit(1);
}
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
