// wasmeow.d.ts type-checks the documented usage (test/types-check.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { webDir } from '../test-support/e2e.js';

test('wasmeow.d.ts type-checks the documented usage and rejects misuse', () => {
  let out = '';
  try {
    out = execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target', 'es2022',
      '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', '--skipLibCheck', 'false', 'test/types-check.ts'],
    { cwd: webDir, encoding: 'utf8' });
  } catch (e) {
    out = String(e.stdout) + String(e.stderr);
    assert.fail(`tsc:\n${out}`);
  }
});
