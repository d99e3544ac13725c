// @ts-check
'use strict';
const { readdirSync, existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

/** Workspace packages, mapped to their sources so tests never see a stale build. */
const moduleNameMapper = {};
for (const dir of ['packages', 'apps']) {
  for (const name of readdirSync(join(__dirname, dir))) {
    const pkg = join(__dirname, dir, name, 'package.json');
    if (existsSync(pkg))
      moduleNameMapper[`^${JSON.parse(readFileSync(pkg, 'utf8')).name}$`] = `<rootDir>/${dir}/${name}/src`;
  }
}
moduleNameMapper['^@rekor-budget/db$'] = '<rootDir>/db/src';

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/packages/testing/dist/environment.js',
  globalSetup: '<rootDir>/packages/testing/dist/global-setup.js',
  globalTeardown: '<rootDir>/packages/testing/dist/global-teardown.js',
  roots: ['<rootDir>/packages', '<rootDir>/apps', '<rootDir>/db'],
  testMatch: ['**/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, sourceMaps: 'inline' }] },
  moduleNameMapper,
  testTimeout: 30_000,
  verbose: true,
  maxWorkers: process.env.CI ? 2 : '50%',
};
