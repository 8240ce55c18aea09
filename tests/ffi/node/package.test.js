// SPDX-License-Identifier: MIT
// The libnn Node.js package as installed from its npm pack tarball: which
// library it loads, the version check, that it covers every function of
// nn.h, that its TypeScript declarations check, and that the README's
// Node.js example runs. Part of the ffi_node ctest test.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const nn = require('libnn');
const { envPath } = require('./common.js');

const source = () => envPath('NN_SOURCE_DIR');

function runNode(code, env = {}) {
  const full = { ...process.env, ...env };
  for (const k of Object.keys(full)) if (full[k] === null) delete full[k];
  return spawnSync(process.execPath, ['-e', code], { env: full, encoding: 'utf8' });
}

test('the package is the installed tarball, not the source tree', () => {
  const where = path.dirname(require.resolve('libnn'));
  assert.equal(fs.realpathSync(where),
               fs.realpathSync(path.join(envPath('NN_EXPECT_PACKAGE_IN'), 'libnn')));
  // Its tables are the source tree's, which are nn.h's (ffi_bindings_current).
  assert.deepEqual(require(path.join(where, 'lib', 'nn_h.js')),
                   require(path.join(source(), 'node', 'lib', 'nn_h.js')));
  const pkg = require(path.join(where, 'package.json'));
  assert.equal(pkg.version, nn.version);
});

test('the version is nn.h\'s and the loaded library\'s major', () => {
  const h = fs.readFileSync(path.join(source(), 'include', 'nn.h'), 'utf8');
  const v = {};
  for (const m of h.matchAll(/^#define NN_VERSION_(MAJOR|MINOR|PATCH) (\d+)$/gm)) v[m[1]] = m[2];
  assert.equal(nn.version, `${v.MAJOR}.${v.MINOR}.${v.PATCH}`);
  assert.equal(nn.ABI_MAJOR, Number(v.MAJOR));
  const number = nn.libraryVersionNumber();
  assert.equal(Math.floor(number / 10000), nn.ABI_MAJOR);
  assert.equal(nn.libraryVersion(),
               `${Math.floor(number / 10000)}.${Math.floor(number / 100) % 100}.${number % 100}`);
});

test('the loader finds the installed library; LIBNN_PATH overrides it', () => {
  const expected = process.env.NN_EXPECT_LIBRARY;
  if (expected) {
    assert.equal(nn.libraryPath, `libnn.so.${nn.ABI_MAJOR}`);
    const maps = fs.readFileSync('/proc/self/maps', 'utf8');
    assert.ok(maps.includes(fs.realpathSync(expected)), `${expected} is not mapped`);
  }
  const built = envPath('NN_BUILT_LIBRARY');
  const r = runNode("process.stdout.write(require('libnn').libraryPath)", { LIBNN_PATH: built });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, built);
});

test('another major version is refused by name', () => {
  const fake = envPath('NN_FAKE_LIBNN');
  const r = runNode("require('libnn')", { LIBNN_PATH: fake });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /is libnn 1\.0\.0 \(major version 1\)/);
  assert.match(r.stderr, /binds major version 0/);
  assert.ok(r.stderr.includes(fake));
  const r2 = runNode("require('libnn')", { LIBNN_PATH: '/nonexistent/libnn.so.0' });
  assert.match(r2.stderr, /cannot load LIBNN_PATH=\/nonexistent\/libnn\.so\.0/);
});

test('every function of nn.h is wrapped or deliberately raw', () => {
  const H = require(path.join(path.dirname(require.resolve('libnn')), 'lib', 'nn_h.js'));
  const names = H.functions.map((f) => f.name);
  const unbound = names.filter((n) => !(n in nn.WRAPPED) && !(n in nn.RAW_ONLY));
  assert.deepEqual(unbound, [], 'wrap these, list them in WRAPPED, or in RAW_ONLY');
  for (const [fn, where] of Object.entries(nn.WRAPPED)) {
    assert.ok(names.includes(fn), `${fn} is not in nn.h`);
    const [cls, member] = where.split('.');
    assert.ok(cls in nn, `${where} (${fn}) is not exported`);
    if (member) {
      const proto = nn[cls].prototype;
      assert.ok(Object.getOwnPropertyDescriptor(proto, member) ||
                Object.getOwnPropertyDescriptor(nn[cls], member),
                `${where} (${fn}) does not exist`);
      const d = Object.getOwnPropertyDescriptor(proto, member) ||
                Object.getOwnPropertyDescriptor(nn[cls], member);
      // The method names the C function it calls (the _labels variants
      // are the name of the other with a suffix).
      const body = String(d.value || d.get);
      assert.ok(body.includes(`'${fn}'`) || body.includes(`'${fn.replace(/_labels$/, '')}'`),
                `${where} does not name ${fn}`);
    }
  }
  const symbols = fs.readFileSync(path.join(source(), 'tests', 'abi', 'symbols.txt'), 'utf8')
    .split('\n').filter((s) => s && !s.startsWith('#'));
  assert.ok(symbols.length > 40);
  for (const s of symbols) {
    assert.equal(typeof nn.capi[s], 'function', `${s} is exported but not declared`);
    assert.ok(!(s in nn.capi.missing));
  }
});

test('index.d.ts checks against a TypeScript program with tsc --noEmit', () => {
  const tsc = envPath('NN_TSC');
  const app = envPath('NN_EXPECT_PACKAGE_IN');
  const dir = fs.mkdtempSync(path.join(path.dirname(app), 'ts-'));
  try {
    fs.copyFileSync(path.join(__dirname, 'types.ts'), path.join(dir, 'types.ts'));
    fs.symlinkSync(app, path.join(dir, 'node_modules'));
    const options = { strict: true, noEmit: true, module: 'commonjs', target: 'es2020',
                      moduleResolution: 'node', types: [] };
    const tsc_ = (file) => {
      fs.writeFileSync(path.join(dir, 'tsconfig.json'),
                       JSON.stringify({ compilerOptions: options, files: [file] }));
      return spawnSync(tsc, ['-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    };
    const r = tsc_('types.ts');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    // and a wrong use is an error
    fs.writeFileSync(path.join(dir, 'bad.ts'),
                     "import * as nn from 'libnn';\nnew nn.Model(2).addDense(3, 'tanhh');\n");
    const bad = tsc_('bad.ts');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /tanhh/);
  } finally {
    fs.rmSync(dir, { recursive: true });
  }
});

test('the README\'s Node.js example runs', () => {
  const readme = fs.readFileSync(path.join(source(), 'README.md'), 'utf8');
  const section = readme.split('## From Python and Node.js')[1].split('\n## ')[0];
  const blocks = [...section.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 2);
  const reader = envPath('NN_HAVE_ONNX_READER') === '1';
  for (const block of blocks) {
    // onnx.test.js checks the NN_E_STATE of a libnn without the ONNX reader.
    if (!reader && /\b(importOnnx|fromOnnx)\(/.test(block)) continue;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'libnn-readme-'));
    try {
      fs.writeFileSync(path.join(dir, 'example.js'), block);
      const out = execFileSync(process.execPath, ['example.js'], { cwd: dir, encoding: 'utf8' });
      for (const m of block.matchAll(/\/\/ prints: (.*)/g)) assert.match(out, new RegExp(m[1].trim()));
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  }
});
