// Mocha root hooks (.mocharc `require`): answers that break the API contract fail the run. Each test's
// (and each suite set-up's) are collected with its title and reported together at the end: a failing
// root hook in between would make mocha skip every test after it.
import type { Context } from 'mocha';
import { takeViolations } from './contract.js';

const broken: string[] = [];

function collect(where: string) {
  for (const v of takeViolations()) broken.push(`  ${where}: ${v.route} -> ${v.status}: ${v.problem}`);
}

export const mochaHooks = {
  beforeEach(this: Context) {
    collect(`set-up before "${this.currentTest?.fullTitle()}"`);
  },
  afterEach(this: Context) {
    collect(`"${this.currentTest?.fullTitle()}"`);
  },
  afterAll() {
    collect('after the last test');
    if (broken.length) throw new Error(`answers that break the OpenAPI document:\n${broken.join('\n')}`);
  },
};
