# SPDX-License-Identifier: MIT
# ONNX export and import and C source export (src/onnx/), part of libnn
# itself: the functions are declared in include/nn.h and exist in every
# build, so that the ABI does not depend on configuration. Included by the
# top CMakeLists.txt once the library targets exist.
#
# Exporting needs nothing (the files are encoded by src/onnx/onnx_export.c).
# Importing decodes untrusted bytes with protobuf-c, an optional component:
#   NN_ONNX_READER=AUTO  (default) use protobuf-c if it is found
#   NN_ONNX_READER=ON    require it
#   NN_ONNX_READER=OFF   do without: nn_model_import_onnx returns NN_E_STATE
#                        and says why
# protobuf-c means the library and headers (Debian: libprotobuf-c-dev) and
# protoc-c (protobuf-c-compiler), which generates the decoder from
# src/onnx/onnx_read.proto at build time.

set(NN_ONNX_READER AUTO CACHE STRING
    "Build the ONNX importer with protobuf-c: AUTO, ON or OFF")
set_property(CACHE NN_ONNX_READER PROPERTY STRINGS AUTO ON OFF)

set(_nn_onnx_dir ${PROJECT_SOURCE_DIR}/src/onnx)
target_sources(nn_objects PRIVATE
  ${_nn_onnx_dir}/c_export.c
  ${_nn_onnx_dir}/model_read.c
  ${_nn_onnx_dir}/onnx_export.c)

set(NN_HAVE_ONNX_READER FALSE)
if(NN_ONNX_READER STREQUAL "OFF")
  message(STATUS "libnn: NN_ONNX_READER=OFF: building without the ONNX "
          "importer (nn_model_import_onnx will return NN_E_STATE)")
else()
  pkg_check_modules(PROTOBUFC IMPORTED_TARGET libprotobuf-c>=1.3)
  find_program(NN_PROTOC_C NAMES protoc-c
               DOC "protoc-c, which generates the ONNX decoder")
  if(PROTOBUFC_FOUND AND NN_PROTOC_C)
    set(NN_HAVE_ONNX_READER TRUE)
  else()
    set(_nn_onnx_missing)
    if(NOT PROTOBUFC_FOUND)
      list(APPEND _nn_onnx_missing "libprotobuf-c (libprotobuf-c-dev)")
    endif()
    if(NOT NN_PROTOC_C)
      list(APPEND _nn_onnx_missing "protoc-c (protobuf-c-compiler)")
    endif()
    string(JOIN " and " _nn_onnx_missing ${_nn_onnx_missing})
    if(NN_ONNX_READER STREQUAL "ON")
      message(FATAL_ERROR "NN_ONNX_READER=ON needs ${_nn_onnx_missing}")
    endif()
    message(STATUS "libnn: ${_nn_onnx_missing} not found: building without "
            "the ONNX importer (nn_model_import_onnx will return NN_E_STATE); "
            "ONNX and C export are built")
  endif()
endif()

# Kept in the cache, so that scripts can tell whether the reader was built.
set(NN_HAVE_ONNX_READER ${NN_HAVE_ONNX_READER} CACHE INTERNAL
    "whether the ONNX importer is built (protobuf-c found)")
if(NN_HAVE_ONNX_READER)
  set(_nn_onnx_gen ${PROJECT_BINARY_DIR}/src/onnx)
  file(MAKE_DIRECTORY ${_nn_onnx_gen})
  add_custom_command(
    OUTPUT ${_nn_onnx_gen}/onnx_read.pb-c.c ${_nn_onnx_gen}/onnx_read.pb-c.h
    COMMAND ${NN_PROTOC_C} --proto_path=${_nn_onnx_dir}
            --c_out=${_nn_onnx_gen} ${_nn_onnx_dir}/onnx_read.proto
    DEPENDS ${_nn_onnx_dir}/onnx_read.proto
    COMMENT "protoc-c: the ONNX decoder from src/onnx/onnx_read.proto"
    VERBATIM)
  target_sources(nn_objects PRIVATE
    ${_nn_onnx_dir}/onnx_import.c ${_nn_onnx_gen}/onnx_read.pb-c.c)
  target_include_directories(nn_objects PRIVATE ${_nn_onnx_gen})
  # Generated code: compiled as protoc-c writes it, without the project's
  # warning flags. Its asserts name the file: by a path relative to the
  # build tree, so that no build path ends up in the installed library.
  set_source_files_properties(${_nn_onnx_gen}/onnx_read.pb-c.c PROPERTIES
    COMPILE_OPTIONS "-w;-fmacro-prefix-map=${PROJECT_BINARY_DIR}/=")
  target_link_libraries(nn_objects PRIVATE PkgConfig::PROTOBUFC)
  target_link_libraries(nn PRIVATE PkgConfig::PROTOBUFC)
  target_link_libraries(nn_testlib PUBLIC PkgConfig::PROTOBUFC)
  if(TARGET nn_static)
    # Users of the archive link protobuf-c themselves; named by its
    # library name, which needs no target on their side.
    target_link_libraries(nn_static PRIVATE protobuf-c)
  endif()
  message(STATUS "libnn: ONNX importer with protobuf-c ${PROTOBUFC_VERSION}")
else()
  target_sources(nn_objects PRIVATE ${_nn_onnx_dir}/onnx_import_none.c)
endif()
