// wasmeow.d.ts type-checks the documented usage (test/types-check.ts), and
// wasmeow.js (// @ts-check, JSDoc) type-checks against wasmeow.d.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { webDir } from '../test-support/e2e.js';

function tsc(...args) {
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target', 'es2022',
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', '--skipLibCheck', 'false', ...args],
    { cwd: webDir, encoding: 'utf8' });
  } catch (e) {
    assert.fail(`tsc ${args.join(' ')}:\n${String(e.stdout)}${String(e.stderr)}`);
  }
}

test('wasmeow.d.ts type-checks the documented usage and rejects misuse', () => {
  tsc('test/types-check.ts');
});

// Its classes @implements the d.ts declarations and its functions take and
// return the d.ts types, so a signature that drifts from wasmeow.d.ts fails.
test('wasmeow.js type-checks (tsc --checkJs, strict) against wasmeow.d.ts', () => {
  tsc('--allowJs', '--checkJs', 'wasmeow.js');
});
