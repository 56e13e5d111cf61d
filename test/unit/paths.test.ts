import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { sharedModel } from '../support/paths.js';

test('shared models are reachable from the tests', () => {
  assert.ok(
    existsSync(sharedModel('resnet20-cifar10.onnx')),
    `missing ${sharedModel('resnet20-cifar10.onnx')}`,
  );
});
