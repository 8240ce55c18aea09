# SPDX-License-Identifier: MIT
#
# The optional parts of the build (tests, examples, benchmarks, the
# documentation) and the tests that need more than a C compiler: each is
# built when what it needs is found, and otherwise left out with one line
# saying what to install. Each part's option takes three values:
#
#   AUTO  (the default) build it if what it needs is found, else say what
#         is missing and go on;
#   ON    build it, and stop with an error naming what is missing;
#   OFF   do not build it.
#
# With NN_BUILD_TESTS=ON the same holds for every test: a test whose tools
# are missing is an error, so CI (.ci/test-all) cannot lose one quietly.

# nn_tristate(<option> <doc>): declares the option with AUTO as default.
macro(nn_tristate _opt _doc)
  set(${_opt} AUTO CACHE STRING "${_doc} (AUTO, ON or OFF)")
  set_property(CACHE ${_opt} PROPERTY STRINGS AUTO ON OFF)
endmacro()

# nn_part(<out> <option> <found> <what> <to install>): sets <out> to TRUE
# when the part is wanted and <found> is true. When <found> is false, an
# AUTO option prints one line naming what to install and an ON option is a
# fatal error.
function(nn_part _out _opt _found _what _install)
  set(_build FALSE)
  if(NOT ${_opt})
    # OFF, NO, FALSE, 0: not wanted.
  elseif(${_found})
    set(_build TRUE)
  elseif("${${_opt}}" STREQUAL "AUTO")
    if(ARGC GREATER 5)
      message(STATUS "Skipping ${_what}: install ${_install}")
    else()
      message(STATUS "Skipping ${_what}: install ${_install} "
                     "(or set -D${_opt}=OFF to silence this)")
    endif()
  else()
    message(FATAL_ERROR "${_opt} is ${${_opt}}, but ${_what} cannot be "
                        "built: install ${_install}, or set -D${_opt}=OFF")
  endif()
  set(${_out} ${_build} PARENT_SCOPE)
endfunction()

# nn_test_needs(<out> <found> <tests> <to install>): for tests whose tools
# may be missing; AUTO or ON as NN_BUILD_TESTS says.
function(nn_test_needs _out _found _what _install)
  nn_part(_build NN_BUILD_TESTS "${_found}" "${_what}" "${_install}" TEST)
  set(${_out} ${_build} PARENT_SCOPE)
endfunction()
