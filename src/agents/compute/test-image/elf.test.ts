import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dynamicInfo, elfSections } from './elf.js';

test('reads the interpreter and needed libraries of a dynamic executable', { skip: process.arch !== 'x64' ? 'x86-64 only' : false }, () => {
  const node = readFileSync(process.execPath);
  const info = dynamicInfo(node);
  assert.match(info.interpreter ?? '', /ld-linux-x86-64\.so\.2$/);
  assert.ok(info.needed.includes('libc.so.6'), `needed: ${info.needed.join(',')}`);
  assert.ok(elfSections(node).some((s) => s.name === '.text'));
});

test('rejects what is not ELF', () => {
  assert.throws(() => elfSections(Buffer.from('#!/bin/sh\n'.padEnd(80))), /not an ELF/);
});
