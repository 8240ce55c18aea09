#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Generates the tables of the Python and Node.js packages from include/nn.h.

nn.h is the one source of truth for libnn's API. This script reads it and
writes what both packages need to know about it:

    python/libnn/_nn_h.py   the version, every enum as an IntEnum (with each
                            value's comment), every function's prototype,
                            the callback types, and every function's comment
                            from nn.h, used as its docstring
    node/lib/nn_h.js        the same tables for Node.js
    node/lib/nn_h.d.ts      their TypeScript declarations

    gen_bindings.py           rewrite the three files
    gen_bindings.py --check   exit 1, naming the files, if any differs from
                              what nn.h gives (the ffi_bindings_current test)

A function or enum value added to nn.h thus reaches both packages by running
this script (cmake --build <dir> --target update-bindings); the packages'
tests then fail until every function is wrapped or listed as deliberately
left raw. The parser knows nn.h's conventions: every exported function is
declared with NN_API, on its own, after a comment that documents it (or the
group it belongs to); enums are `typedef enum nn_x { NN_..._Y = n, ... }
nn_x;` with explicit values; callbacks are `typedef R (*nn_x_fn)(...);`.
Anything it cannot read is an error, not a silent omission.
"""

import json
import os
import re
import sys
import textwrap

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     "..", ".."))
HEADER = os.path.join(ROOT, "include", "nn.h")
OUT_PY = os.path.join(ROOT, "python", "libnn", "_nn_h.py")
OUT_JS = os.path.join(ROOT, "node", "lib", "nn_h.js")
OUT_DTS = os.path.join(ROOT, "node", "lib", "nn_h.d.ts")

# The C types of nn.h's prototypes that the packages know how to pass; a new
# one must be taught to python/libnn/_lib.py and node/index.js, so it stops
# the generator rather than slipping through.
KNOWN_TYPES = {
    "void", "unsigned", "size_t", "uint64_t", "double", "int",
    "const char *", "char *", "void *", "const void *",
    "float *", "const float *", "const uint8_t *", "const int32_t *",
    "double *", "size_t *",
    "nn_model *", "const nn_model *", "nn_model **",
    "nn_data *", "const nn_data *", "nn_data **",
}

GENERATED = "Generated from include/nn.h by tests/ffi/gen_bindings.py: do not edit."


class HeaderError(Exception):
    pass


def clean_comment(text):
    """The text of a /* */ comment, without the markers and the leading
    asterisks, dedented, trailing spaces and blank edge lines removed."""
    body = text[2:-2]
    lines = body.split("\n")
    out = []
    for i, line in enumerate(lines):
        if i > 0:
            line = re.sub(r"^\s*\* ?", "", line, count=1)
        out.append(line.rstrip())
    out[0] = out[0].strip()
    rest = textwrap.dedent("\n".join(out[1:]))
    joined = (out[0] + "\n" + rest) if rest.strip() else out[0]
    return joined.strip("\n").strip()


def one_line(text):
    return re.sub(r"\s+", " ", text).strip()


def norm_type(t):
    t = one_line(t)
    t = re.sub(r"\s*\*", " *", t)
    t = t.replace("* *", "**")
    return t.strip()


def split_decl(decl):
    """'const float *x' -> ('const float *', 'x')."""
    decl = one_line(decl)
    m = re.match(r"^(.*?)(\w+)$", decl)
    if not m:
        raise HeaderError("cannot read the parameter %r" % decl)
    return norm_type(m.group(1)), m.group(2)


def parse_params(text, where):
    text = one_line(text)
    if text == "void":
        return []
    params = []
    for part in text.split(","):
        ctype, name = split_decl(part)
        params.append([ctype, name])
    if not params:
        raise HeaderError("%s: no parameter list" % where)
    return params


def since_of(doc):
    m = re.match(r"Since (\d+\.\d+)\.", doc)
    return m.group(1) if m else "0.1"


def enum_class_name(cname):
    return "".join(p.capitalize() for p in cname[len("nn_"):].split("_"))


def common_prefix(names):
    prefix = os.path.commonprefix(names)
    return prefix[:prefix.rfind("_") + 1]


def parse_enum(name, body):
    """The values of one enum, each with its comment: a comment on the
    value's own line (after it) or the comment lines just before it. A
    standalone 'Since X.Y.' applies to the values after it."""
    tokens = []
    for m in re.finditer(r"/\*.*?\*/|(NN_\w+)\s*=\s*(\d+)\s*,?", body, re.S):
        tokens.append(m)
    values = []
    pending = []
    since = "0.1"
    last_end_line = -1
    for m in tokens:
        line = body.count("\n", 0, m.start())
        if m.group(0).startswith("/*"):
            text = clean_comment(m.group(0))
            if values and line == last_end_line:
                values[-1]["doc"] = (values[-1]["doc"] + " " + text).strip()
            else:
                s = re.match(r"Since (\d+\.\d+)\.\s*(.*)", text, re.S)
                if s:
                    since = s.group(1)
                    text = s.group(2)
                if text:
                    pending.append(text)
            continue
        values.append({"name": m.group(1), "value": int(m.group(2)),
                       "doc": " ".join(pending), "since": since})
        pending = []
        last_end_line = body.count("\n", 0, m.end())
    if len(values) < 2:
        raise HeaderError("enum %s: fewer than two values" % name)
    prefix = common_prefix([v["name"] for v in values])
    if not prefix.startswith("NN_"):
        raise HeaderError("enum %s: no common NN_ prefix" % name)
    seen = set()
    for v in values:
        v["member"] = v["name"][len(prefix):]
        v["doc"] = one_line(v["doc"])
        if not re.match(r"^[A-Z][A-Z0-9_]*$", v["member"]):
            raise HeaderError("enum %s: %s gives no member name"
                              % (name, v["name"]))
        if v["value"] in seen:
            raise HeaderError("enum %s: value %d twice" % (name, v["value"]))
        seen.add(v["value"])
    return {"cname": name, "name": enum_class_name(name), "prefix": prefix,
            "values": values}


def parse_header(text):
    api = {"version": {}, "enums": [], "callbacks": [], "functions": []}
    for part in ("MAJOR", "MINOR", "PATCH"):
        m = re.search(r"^#define NN_VERSION_%s (\d+)$" % part, text, re.M)
        if not m:
            raise HeaderError("no NN_VERSION_%s" % part)
        api["version"][part.lower()] = int(m.group(1))

    # Comments and declarations in order of position.
    comments = [(m.start(), m.end(), m.group(0))
                for m in re.finditer(r"/\*.*?\*/", text, re.S)]

    def blank_comments(s):
        return re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)),
                      s, flags=re.S)

    code = blank_comments(text)

    for m in re.finditer(r"typedef enum (\w+) \{(.*?)\} (\w+);", text, re.S):
        if m.group(1) != m.group(3):
            raise HeaderError("enum %s is typedef'd as %s"
                              % (m.group(1), m.group(3)))
        api["enums"].append(parse_enum(m.group(1), m.group(2)))
    if len(re.findall(r"\benum\b", code)) != len(api["enums"]):
        raise HeaderError("an enum is not of the form typedef enum nn_x {...} nn_x;")

    for m in re.finditer(r"typedef\s+([^;()]+?)\(\s*\*\s*(\w+)\s*\)\s*\(([^)]*)\)\s*;",
                         code):
        api["callbacks"].append({"name": m.group(2),
                                 "ret": norm_type(m.group(1)),
                                 "params": parse_params(m.group(3), m.group(2))})

    decl_re = re.compile(r"NN_API\s+(?:NN_NODISCARD\s+)?([^;()]*?)\b(nn_\w+)\s*"
                         r"\(([^)]*)\)\s*;")
    decls = list(decl_re.finditer(code))
    starts = len(re.findall(r"^NN_API\b", code, re.M))
    if len(decls) != starts:
        raise HeaderError("an NN_API declaration does not parse: %d parsed, "
                          "%d lines start with NN_API" % (len(decls), starts))
    for m in decls:
        # The documenting comment: the last comment before the declaration
        # with nothing but other declarations of its group in between (a
        # group is declarations on consecutive lines: a blank line ends it,
        # so a function without a comment does not borrow the last group's).
        doc = None
        for _start, c_end, c_text in reversed(comments):
            if c_end > m.start():
                continue
            gaps, pos = [], c_end
            for d in decl_re.finditer(code, c_end, m.start()):
                gaps.append(code[pos:d.start()])
                pos = d.end()
            gaps.append(code[pos:m.start()])
            if any(g.strip() or re.search(r"\n[ \t]*\n", g) for g in gaps):
                break
            doc = clean_comment(c_text)
            break
        if doc is None or doc.startswith("---"):
            raise HeaderError("%s has no comment of its own before it"
                              % m.group(2))
        ret = norm_type(m.group(1))
        params = parse_params(m.group(3), m.group(2))
        api["functions"].append({"name": m.group(2), "ret": ret,
                                 "params": params, "doc": doc,
                                 "since": since_of(doc),
                                 "nodiscard": "NN_NODISCARD" in
                                 code[m.start():m.start(2)]})

    enum_cnames = {e["cname"] for e in api["enums"]}
    callback_names = {c["name"] for c in api["callbacks"]}
    for f in api["functions"]:
        for ctype in [f["ret"]] + [p[0] for p in f["params"]]:
            base = ctype.replace("const ", "")
            if (ctype not in KNOWN_TYPES and base not in enum_cnames
                    and base not in callback_names):
                raise HeaderError("%s: type %r is new to the bindings: teach "
                                  "python/libnn/_lib.py and node/index.js, then "
                                  "KNOWN_TYPES here" % (f["name"], ctype))
    names = [f["name"] for f in api["functions"]]
    if len(set(names)) != len(names):
        raise HeaderError("a function is declared twice")
    return api


# ---------------------------------------------------------------------------
# Python
# ---------------------------------------------------------------------------

def py_str(s):
    return json.dumps(s, ensure_ascii=False)


def py_docstring(text, indent):
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    lines = text.split("\n")
    pad = " " * indent
    body = "\n".join((pad + l) if l else "" for l in lines)
    return '%s"""\n%s\n%s"""' % (pad, body, pad)


def gen_python(api):
    v = api["version"]
    out = ['"""The tables of libnn\'s API, from include/nn.h.', "",
           GENERATED, '"""', "",
           "import enum", "from typing import Dict, Tuple", "",
           "VERSION_MAJOR = %d" % v["major"],
           "VERSION_MINOR = %d" % v["minor"],
           "VERSION_PATCH = %d" % v["patch"],
           "__version__ = \"%d.%d.%d\"" % (v["major"], v["minor"], v["patch"]),
           ""]
    for e in api["enums"]:
        doc = ["%s (%s*): the values of nn.h's enum %s." %
               (e["cname"], e["prefix"], e["cname"]), ""]
        for val in e["values"]:
            entry = "%s = %d" % (val["member"], val["value"])
            if val["since"] != "0.1":
                entry += " (since %s)" % val["since"]
            if val["doc"]:
                entry += ": " + val["doc"]
            doc.extend(textwrap.wrap(entry, 72, subsequent_indent="    "))
        out.append("")
        out.append("class %s(enum.IntEnum):" % e["name"])
        out.append(py_docstring("\n".join(doc), 4))
        out.append("")
        for val in e["values"]:
            out.append("    %s = %d" % (val["member"], val["value"]))
        out.append("")
    out.append("")
    out.append("#: C enum name -> (Python class, value prefix in nn.h).")
    out.append("ENUMS: Dict[str, Tuple[type, str]] = {")
    for e in api["enums"]:
        out.append("    %s: (%s, %s)," % (py_str(e["cname"]), e["name"],
                                        py_str(e["prefix"])))
    out.append("}")
    out.append("")
    out.append("#: Callback type -> (return type, ((parameter type, name), ...)).")
    out.append("CALLBACKS: Dict[str, Tuple[str, Tuple[Tuple[str, str], ...]]] = {")
    for c in api["callbacks"]:
        params = "".join("(%s, %s), " % (py_str(t), py_str(n))
                         for t, n in c["params"])
        out.append("    %s: (%s, (%s))," % (py_str(c["name"]), py_str(c["ret"]),
                                          params.rstrip()))
    out.append("}")
    out.append("")
    out.append("#: Function -> (return type, ((parameter type, name), ...), "
               "since).")
    out.append("FUNCTIONS: Dict[str, Tuple[str, Tuple[Tuple[str, str], ...], "
               "str]] = {")
    for f in api["functions"]:
        params = "".join("(%s, %s), " % (py_str(t), py_str(n))
                         for t, n in f["params"])
        out.append("    %s: (%s, (%s), %s)," % (py_str(f["name"]),
                                              py_str(f["ret"]),
                                              params.rstrip(),
                                              py_str(f["since"])))
    out.append("}")
    out.append("")
    out.append("#: Function -> its comment in nn.h.")
    out.append("DOCS: Dict[str, str] = {")
    for f in api["functions"]:
        out.append("    %s: %s," % (py_str(f["name"]), py_str(f["doc"])))
    out.append("}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# Node.js
# ---------------------------------------------------------------------------

def gen_js(api):
    v = api["version"]
    data = {
        "version": {"major": v["major"], "minor": v["minor"],
                    "patch": v["patch"]},
        "enums": [{"cname": e["cname"], "name": e["name"],
                   "prefix": e["prefix"],
                   "values": [[val["member"], val["value"], val["doc"]]
                              for val in e["values"]]}
                  for e in api["enums"]],
        "callbacks": [{"name": c["name"], "ret": c["ret"],
                       "params": c["params"]} for c in api["callbacks"]],
        "functions": [{"name": f["name"], "ret": f["ret"],
                       "params": f["params"], "since": f["since"],
                       "doc": f["doc"]} for f in api["functions"]],
    }
    body = json.dumps(data, indent=1, ensure_ascii=False)
    return ("// %s\n'use strict';\n\nmodule.exports = %s;\n" % (GENERATED, body))


def gen_dts(api):
    v = api["version"]
    out = ["// " + GENERATED, "",
           "export declare const version: { readonly major: %d; readonly minor: "
           "%d; readonly patch: %d };" % (v["major"], v["minor"], v["patch"]), ""]
    for e in api["enums"]:
        out.append("/** %s: the values of nn.h's enum %s. */" % (e["cname"],
                                                                 e["cname"]))
        out.append("export declare const %s: {" % e["name"])
        for val in e["values"]:
            if val["doc"]:
                out.append("  /** %s */" % val["doc"].replace("*/", "* /"))
            out.append("  readonly %s: %d;" % (val["member"], val["value"]))
        out.append("};")
        out.append("export type %s = (typeof %s)[keyof typeof %s];"
                   % (e["name"], e["name"], e["name"]))
        out.append("/** The members' names in lower case, which the package "
                   "also takes. */")
        out.append("export type %sName = %s;" % (e["name"], " | ".join(
            "'%s'" % v["member"].lower() for v in e["values"])))
        out.append("")
    out.append("/** The functions of nn.h, by name. */")
    out.append("export type FunctionName =")
    for i, f in enumerate(api["functions"]):
        out.append("  | '%s'%s" % (f["name"], ";" if i == len(api["functions"]) - 1
                                    else ""))
    return "\n".join(out) + "\n"


def main(argv):
    check = "--check" in argv
    with open(HEADER, encoding="utf-8") as f:
        api = parse_header(f.read())
    outputs = {OUT_PY: gen_python(api), OUT_JS: gen_js(api),
               OUT_DTS: gen_dts(api)}
    stale = []
    for path, content in outputs.items():
        try:
            with open(path, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != content:
            stale.append(path)
            if not check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as f:
                    f.write(content)
    nfn = len(api["functions"])
    nenum = len(api["enums"])
    if check:
        if stale:
            print("not what include/nn.h gives (run tests/ffi/gen_bindings.py, "
                  "or cmake --build <dir> --target update-bindings):")
            for p in stale:
                print("  " + os.path.relpath(p, ROOT))
            return 1
        print("ok: %d functions, %d enums, %d callback types, as nn.h declares"
              % (nfn, nenum, len(api["callbacks"])))
        return 0
    for p in stale:
        print("wrote " + os.path.relpath(p, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
