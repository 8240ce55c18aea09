# SPDX-License-Identifier: MIT
#
# Runs docs/nn-h-man.awk into a file (cmake -P, so that no shell is needed
# for the redirection): cmake -DAWK=awk -DVERSION=x.y.z -DSCRIPT=... \
#   -DHEADER=include/nn.h -DEXAMPLE=examples/xor.c -DOUT=libnn.3 -P man.cmake
get_filename_component(_dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${_dir}")
execute_process(
  COMMAND "${AWK}" -v "version=${VERSION}" -v "example=${EXAMPLE}"
          -f "${SCRIPT}" "${HEADER}"
  OUTPUT_FILE "${OUT}.tmp"
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  file(REMOVE "${OUT}.tmp")
  message(FATAL_ERROR "${AWK} -f ${SCRIPT} failed (${_rc})")
endif()
file(RENAME "${OUT}.tmp" "${OUT}")
