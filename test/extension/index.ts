// The entry point VS Code loads as `extensionTestsPath`: runs the Mocha suites (tdd UI) inside the
// extension host and rejects when any test fails. Both runners use it: the offline code-server one
// (test/host/runExtensionTests.mjs) and @vscode/test-electron (test/extension/runElectron.ts).
import Mocha from 'mocha';
import { agentSuite } from './agent.suite.js';
import { canaryFlowSuite } from './canaryFlow.suite.js';
import { canarySightSuite } from './canarySight.suite.js';
import { commandsSuite } from './commands.suite.js';
import { dashboardSuite } from './dashboard.suite.js';
import { fleetSuite } from './fleet.suite.js';
import { metricsSuite } from './metrics.suite.js';
import { requestsSuite } from './requests.suite.js';
import { requestsViewSuite } from './requestsView.suite.js';
import { walkthroughSuite } from './walkthrough.suite.js';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 60_000, reporter: 'spec', ...(process.env.INFERSCOPE_TEST_GREP ? { grep: process.env.INFERSCOPE_TEST_GREP } : {}) });
  // Defines suite()/test() for the suite modules, which the bundle has already loaded.
  mocha.suite.emit('pre-require', globalThis, 'inferscope', mocha);
  agentSuite();
  commandsSuite();
  canaryFlowSuite();
  canarySightSuite();
  metricsSuite();
  dashboardSuite();
  requestsSuite();
  requestsViewSuite();
  fleetSuite();
  // Last: its demo canary promotes version 3, which changes the default version for what follows.
  walkthroughSuite();
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} extension-host test(s) failed`)) : resolve()));
  });
}
