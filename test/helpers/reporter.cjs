// Mocha's spec output plus one closing line CI reads: "tests: N passed, N failed".
// With MOCHA_RESULTS_FILE set, the same counts are also written there as JSON for .ci/run.
const Mocha = require('mocha');
const { writeFileSync } = require('node:fs');

class SpecWithSummary extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const { passes, failures, pending } = runner.stats;
      console.log(`tests: ${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
      if (process.env.MOCHA_RESULTS_FILE) {
        writeFileSync(process.env.MOCHA_RESULTS_FILE, JSON.stringify({ passes, failures, pending }) + '\n');
      }
    });
  }
}

module.exports = SpecWithSummary;
