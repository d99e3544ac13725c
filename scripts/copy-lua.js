// Copies a package's Lua scripts (<packageDir>/src/**/*.lua) next to its compiled
// JavaScript in <packageDir>/dist/, keeping the folders (scripts/, scripts/includes/).
// Called from a package's build script:  node ../../scripts/copy-lua.js .
'use strict';
const { cpSync, existsSync, mkdirSync, readdirSync, statSync } = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const packageDir = process.argv[2];
if (!packageDir) {
  console.error('usage: node scripts/copy-lua.js <packageDir>   (copies <packageDir>/src/**/*.lua to dist/)');
  process.exit(2);
}
const src = resolve(packageDir, 'src');
const dist = resolve(packageDir, 'dist');
if (!existsSync(src)) {
  console.error(`copy-lua: ${src} does not exist; pass the package folder (the one holding src/)`);
  process.exit(2);
}

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.lua')) {
      const target = join(dist, relative(src, path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
walk(src);
