import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extensionRoot } from '../../src/paths';
import { launchProperties, launchOptionSpecs } from '../../debug-adapter/launch';
import { DEVICES } from '../../src/devices/registry';

const pkg = JSON.parse(readFileSync(join(extensionRoot(), 'package.json'), 'utf8'));
const schema = pkg.contributes.debuggers[0].configurationAttributes.launch.properties;

test('package.json: the launch schema is the one the option declarations generate (npm run manifest)', () => {
  assert.deepEqual(schema, launchProperties(), 'package.json is stale: run `npm run manifest`');
});

test('every device option is a launch attribute, and no two options share a key or a flag', () => {
  for (const d of DEVICES) for (const o of d.options) assert.ok(o.unavailable || schema[o.key], `${d.name}: ${o.key} missing from the schema`);
  const keys = launchOptionSpecs().map((o) => o.key);
  assert.equal(new Set(keys).size, keys.length, `duplicate keys: ${keys.join(', ')}`);
  const flags = launchOptionSpecs().flatMap((o) => o.cli ?? []);
  assert.equal(new Set(flags).size, flags.length, `duplicate flags: ${flags.join(', ')}`);
});
