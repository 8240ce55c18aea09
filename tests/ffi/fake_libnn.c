/* SPDX-License-Identifier: MIT */
/* fake_libnn.c - a shared library that says it is libnn 1.0.0, for the
 * bindings' tests: the Python and Node.js packages bind major version 0
 * and must refuse to load it, with a message naming both versions. It has
 * nothing else of libnn, so a binding that went on would fail loudly. */
unsigned nn_version_number(void);
const char *nn_version_string(void);

unsigned nn_version_number(void)
{
    return 10000u;
}

const char *nn_version_string(void)
{
    return "1.0.0";
}
