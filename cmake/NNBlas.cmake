# SPDX-License-Identifier: MIT
#
# The CBLAS that libnn calls, as NN_BLAS says:
#
#   openblas  (the default) OpenBLAS through pkg-config (openblas.pc);
#             nn_set_blas_threads sets its thread count
#   blis      BLIS and its CBLAS layer (Debian, Ubuntu: libblis-dev);
#             nn_set_blas_threads sets its thread count
#   generic   the BLAS that CMake's FindBLAS finds (BLA_VENDOR narrows the
#             search), with a cblas.h beside it: Debian's libblas-dev is
#             the reference (netlib) BLAS; nn_set_blas_threads returns
#             NN_E_STATE
#
# Sets NN_BLAS_TARGET (to link), NN_BLAS_DEFINITION (for src/gemm.c and the
# benchmarks: NN_HAVE_OPENBLAS=1 or NN_HAVE_BLIS=1), and for the installed
# nn.pc and CMake package NN_BLAS_PC_MODULE (the pkg-config module, or "")
# and NN_BLAS_LIBRARY_FILES (the files linked when there is none).

set(NN_BLAS_PC_MODULE "")
set(NN_BLAS_LIBRARY_FILES "")
set(NN_BLAS_DEFINITION "")

if(NN_BLAS STREQUAL "openblas")
  pkg_check_modules(OPENBLAS IMPORTED_TARGET openblas)
  if(NOT OPENBLAS_FOUND)
    message(FATAL_ERROR "OpenBLAS not found (pkg-config openblas): install "
      "libopenblas-dev (Debian, Ubuntu) or openblas-devel (Fedora), or pick "
      "another CBLAS with -DNN_BLAS=blis or -DNN_BLAS=generic")
  endif()
  set(NN_BLAS_TARGET PkgConfig::OPENBLAS)
  set(NN_BLAS_PC_MODULE openblas)
  set(NN_BLAS_DEFINITION NN_HAVE_OPENBLAS=1)
  set(_nn_blas_what "OpenBLAS ${OPENBLAS_VERSION}")
elseif(NN_BLAS STREQUAL "blis")
  # Debian keeps each threading flavour of BLIS in a directory of its own.
  set(_nn_blis_dirs blis blis-openmp blis-pthread blis-serial)
  find_path(NN_BLIS_INCLUDE_DIR NAMES blis.h PATH_SUFFIXES ${_nn_blis_dirs})
  find_library(NN_BLIS_LIBRARY NAMES blis PATH_SUFFIXES ${_nn_blis_dirs})
  if(NOT NN_BLIS_INCLUDE_DIR OR NOT NN_BLIS_LIBRARY OR
     NOT EXISTS "${NN_BLIS_INCLUDE_DIR}/cblas.h")
    message(FATAL_ERROR "BLIS with its CBLAS layer not found (blis.h, "
      "cblas.h, libblis): install libblis-dev (Debian, Ubuntu), or set "
      "NN_BLIS_INCLUDE_DIR and NN_BLIS_LIBRARY")
  endif()
  add_library(nn_blas INTERFACE)
  target_link_libraries(nn_blas INTERFACE ${NN_BLIS_LIBRARY})
  # SYSTEM: blis.h is not written for -Wextra -Werror.
  target_include_directories(nn_blas SYSTEM INTERFACE ${NN_BLIS_INCLUDE_DIR})
  set(NN_BLAS_TARGET nn_blas)
  set(NN_BLAS_LIBRARY_FILES ${NN_BLIS_LIBRARY})
  set(NN_BLAS_DEFINITION NN_HAVE_BLIS=1)
  set(_nn_blas_what "BLIS (${NN_BLIS_LIBRARY})")
elseif(NN_BLAS STREQUAL "generic")
  find_package(BLAS)
  find_path(NN_CBLAS_INCLUDE_DIR NAMES cblas.h)
  if(NOT BLAS_FOUND OR NOT NN_CBLAS_INCLUDE_DIR)
    message(FATAL_ERROR "No BLAS with a cblas.h found: install libblas-dev "
      "(Debian, Ubuntu; the reference BLAS) or another CBLAS, and name it "
      "with -DBLA_VENDOR=... if FindBLAS picks the wrong one")
  endif()
  add_library(nn_blas INTERFACE)
  target_link_libraries(nn_blas INTERFACE ${BLAS_LIBRARIES})
  target_include_directories(nn_blas INTERFACE ${NN_CBLAS_INCLUDE_DIR})
  set(NN_BLAS_TARGET nn_blas)
  set(NN_BLAS_LIBRARY_FILES ${BLAS_LIBRARIES})
  set(_nn_blas_what "${BLAS_LIBRARIES}, ${NN_CBLAS_INCLUDE_DIR}/cblas.h")
else()
  message(FATAL_ERROR "NN_BLAS is '${NN_BLAS}': it takes openblas, blis or "
                      "generic")
endif()
message(STATUS "BLAS (NN_BLAS=${NN_BLAS}): ${_nn_blas_what}")
