# SPDX-License-Identifier: MIT
"""The libnn Python package as installed: which library it loads, the version
check, that it binds every function of nn.h with nn.h's text, that it passes
mypy --strict, and that the README's Python examples run."""

import ast
import inspect
import os
import re
import subprocess
import sys
import tempfile
import unittest

import libnn

from common import (env_path, header_api, onnx_reader, run_python,
                    source_dir)


class TheInstalledPackage(unittest.TestCase):
    def test_is_the_installed_copy_when_ctest_says_so(self):
        # ctest runs these tests with the interpreter of a venv that pip
        # installed the package into, from outside the source tree.
        site = env_path("NN_EXPECT_PACKAGE_IN")
        self.assertTrue(os.path.realpath(libnn.__file__).startswith(
            os.path.realpath(site) + os.sep), libnn.__file__)
        self.assertFalse(os.path.realpath(libnn.__file__).startswith(
            os.path.realpath(os.path.join(source_dir(), "python"))))

    def test_version_is_nn_hs(self):
        v = header_api()["version"]
        want = "%d.%d.%d" % (v["major"], v["minor"], v["patch"])
        self.assertEqual(libnn.__version__, want)
        self.assertEqual(libnn.ABI_MAJOR, v["major"])
        from importlib.metadata import version
        self.assertEqual(version("libnn"), want)
        number = libnn.library_version_number()
        self.assertEqual(libnn.library_version(), "%d.%d.%d" % (
            number // 10000, number // 100 % 100, number % 100))
        self.assertEqual(number // 10000, libnn.ABI_MAJOR)

    def test_loads_the_library_the_loader_finds_unless_libnn_path_says(self):
        expected = os.environ.get("NN_EXPECT_LIBRARY")
        if expected:  # LD_LIBRARY_PATH points at the installed prefix
            self.assertEqual(libnn.library_path, "libnn.so.%d" % libnn.ABI_MAJOR)
            out = run_python("import libnn, ctypes; print(libnn.capi."
                             "nn_version_number.__name__)").stdout
            self.assertEqual(out.strip(), "nn_version_number")
            with open("/proc/self/maps") as f:
                maps = f.read()
            self.assertIn(os.path.realpath(expected), maps)
        built = env_path("NN_BUILT_LIBRARY")
        out = run_python("import libnn; print(libnn.library_path)",
                         env={"LIBNN_PATH": built}).stdout.strip()
        self.assertEqual(out, built)

    def test_refuses_another_major_version_by_name(self):
        fake = env_path("NN_FAKE_LIBNN")
        r = run_python("import libnn", env={"LIBNN_PATH": fake}, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("is libnn 1.0.0 (major version 1)", r.stderr)
        self.assertIn("binds major version 0", r.stderr)
        self.assertIn(fake, r.stderr)

    def test_a_missing_library_is_an_import_error_that_says_what_to_do(self):
        r = run_python("import libnn", check=False,
                       env={"LIBNN_PATH": "/nonexistent/libnn.so.0"})
        self.assertIn("ImportError: libnn: cannot load LIBNN_PATH="
                      "/nonexistent/libnn.so.0", r.stderr)
        r = run_python("import libnn", check=False,
                       env={"LIBNN_PATH": None, "LD_LIBRARY_PATH": "/nonexistent"})
        if r.returncode != 0:  # libnn is not installed system-wide here
            self.assertIn("set LIBNN_PATH", r.stderr)
            self.assertIn("ldconfig", r.stderr)


class EveryFunctionOfNnH(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.api = header_api()

    def test_is_wrapped_or_deliberately_raw(self):
        names = {f["name"] for f in self.api["functions"]}
        self.assertEqual(set(libnn._nn_h.FUNCTIONS), names)
        unbound = names - set(libnn.WRAPPED) - set(libnn.RAW_ONLY)
        self.assertEqual(unbound, set(), "nn.h functions without a Python "
                         "wrapper: wrap them (with @wraps) or list them in "
                         "RAW_ONLY")

    def test_every_exported_function_is_declared_to_ctypes(self):
        with open(os.path.join(source_dir(), "tests", "abi", "symbols.txt")) as f:
            symbols = [s.strip() for s in f if s.strip() and s[0] != "#"]
        self.assertGreater(len(symbols), 40)
        for s in symbols:
            fn = getattr(libnn.capi, s)
            ret, params, _ = libnn._nn_h.FUNCTIONS[s]
            self.assertEqual(len(fn.argtypes), len(params), s)
        self.assertEqual(set(libnn.capi.missing) & set(symbols), set())

    def test_prototypes_and_enums_are_nn_hs(self):
        for f in self.api["functions"]:
            ret, params, since = libnn._nn_h.FUNCTIONS[f["name"]]
            self.assertEqual((ret, [list(p) for p in params], since),
                             (f["ret"], f["params"], f["since"]), f["name"])
        for e in self.api["enums"]:
            cls, prefix = libnn._nn_h.ENUMS[e["cname"]]
            self.assertIs(getattr(libnn, cls.__name__), cls)
            self.assertEqual({prefix + m.name: m.value for m in cls},
                             {v["name"]: v["value"] for v in e["values"]})

    def test_every_wrapper_carries_nn_hs_comment(self):
        by_name = {f["name"]: f for f in self.api["functions"]}
        for cname, qualname in libnn.WRAPPED.items():
            obj = libnn
            for part in qualname.split("."):
                obj = getattr(obj, part)
            if isinstance(obj, property):
                obj = obj.fget
            doc = inspect.getdoc(obj) or ""
            first = by_name[cname]["doc"].split("\n")[0]
            self.assertIn(first, doc, "%s (%s)" % (qualname, cname))
            self.assertIn(cname + "(", doc)

    def test_enum_names_are_libnns(self):
        with open(os.path.join(source_dir(), "tests", "abi", "symbols.txt")) as f:
            exported = f.read().split()
        checked = 0
        for cls, fn in libnn._model._NAME_FUNCTIONS.items():
            for m in cls:
                self.assertEqual(libnn.name_of(m), m.name.lower())
                if fn in exported:
                    raw = getattr(libnn.capi, fn)(int(m))
                    self.assertEqual(raw.decode(), m.name.lower())
                    checked += 1
            if fn in exported:
                self.assertIsNone(getattr(libnn.capi, fn)(len(cls) + 1))
        self.assertEqual(checked > 0, "nn_param_name" in exported)


class TheGeneratorMissesNothing(unittest.TestCase):
    """gen_bindings.py on nn.h with additions: each reaches the tables, or
    stops the generator; none is dropped silently."""

    @classmethod
    def setUpClass(cls):
        sys.path.insert(0, os.path.join(source_dir(), "tests", "ffi"))
        try:
            import gen_bindings
        finally:
            sys.path.pop(0)
        cls.gen = gen_bindings
        with open(os.path.join(source_dir(), "include", "nn.h")) as f:
            cls.header = f.read()

    def parse_with(self, addition):
        text = self.header.replace("#ifdef __cplusplus\n}", addition +
                                   "\n#ifdef __cplusplus\n}")
        self.assertNotEqual(text, self.header)
        return self.gen.parse_header(text)

    def test_a_new_function_and_its_comment_reach_the_tables(self):
        api = self.parse_with("/* Since 0.3. Frobnicates. */\n"
                              "NN_API NN_NODISCARD nn_status nn_model_frob(\n"
                              "    nn_model *model, size_t n, double *out);\n")
        f = api["functions"][-1]
        self.assertEqual((f["name"], f["ret"], f["params"], f["since"]),
                         ("nn_model_frob", "nn_status",
                          [["nn_model *", "model"], ["size_t", "n"],
                           ["double *", "out"]], "0.3"))
        self.assertIn("nn_model_frob", self.gen.gen_python(api))
        self.assertIn("nn_model_frob", self.gen.gen_js(api))
        # and the package's coverage test would then fail: it is in no list
        self.assertNotIn("nn_model_frob", libnn.WRAPPED)

    def test_a_new_enum_value_reaches_the_tables(self):
        text = self.header.replace(
            "    NN_LOSS_HUBER = 5\n", "    NN_LOSS_HUBER = 5,\n"
            "    NN_LOSS_FROB = 6 /* frobs */\n")
        api = self.gen.parse_header(text)
        loss = [e for e in api["enums"] if e["cname"] == "nn_loss"][0]
        self.assertEqual(loss["values"][-1]["member"], "FROB")
        self.assertIn("FROB = 6", self.gen.gen_python(api))
        self.assertIn("readonly FROB: 6;", self.gen.gen_dts(api))

    def test_what_the_generator_cannot_read_stops_it(self):
        for bad in ("NN_API nn_status nn_model_nodoc(nn_model *model);",
                    "/* A new type. */\nNN_API nn_status nn_model_x(short *s);",
                    "/* Varargs. */\nNN_API nn_status nn_model_v(nn_model *m, ...);",
                    "/* A macro in the way. */\nNN_API NN_WEIRD nn_status nn_w(void);"):
            with self.subTest(bad=bad):
                with self.assertRaises(self.gen.HeaderError):
                    self.parse_with(bad)


class TypesAndDocs(unittest.TestCase):
    def test_mypy_strict_passes_on_the_installed_package(self):
        pkg = os.path.dirname(libnn.__file__)
        r = subprocess.run(["mypy", "--strict", "--no-incremental",
                            "--python-executable", sys.executable,
                            "--cache-dir", os.devnull, "-p", "libnn"],
                           capture_output=True, text=True,
                           cwd=os.path.dirname(pkg))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Success: no issues found", r.stdout)

    def test_the_readme_examples_run(self):
        with open(os.path.join(source_dir(), "README.md")) as f:
            readme = f.read()
        section = readme.split("## From Python and Node.js", 1)[1]
        section = section.split("\n## ", 1)[0]
        blocks = re.findall(r"```python\n(.*?)```", section, re.S)
        self.assertGreaterEqual(len(blocks), 3)
        reader = onnx_reader()
        for block in blocks:
            ast.parse(block)
            if not reader and re.search(r"\b(import|from)_onnx\(", block):
                continue  # test_onnx checks the NN_E_STATE of this libnn
            with tempfile.TemporaryDirectory() as d:
                r = subprocess.run([sys.executable, "-c", block], cwd=d,
                                   capture_output=True, text=True, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr)
            # Each example prints what it computed; the comments in the
            # block say what to expect.
            for want in re.findall(r"# prints: (.*)", block):
                self.assertRegex(r.stdout, want.strip())


if __name__ == "__main__":
    unittest.main()
