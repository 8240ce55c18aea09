# SPDX-License-Identifier: MIT
# Installation of libnn: the shared library (and, with NN_BUILD_STATIC, the
# static archive), nn.h, a pkg-config file and a CMake package exporting
# nn::nn; and the licence text. Included by the top CMakeLists.txt once the
# nn target and the BLAS choice exist.
#
# Every destination is a GNUInstallDirs relative directory and nothing
# installed names the build or source tree, so an install can be moved
# (tests/consumers checks both).

include(CMakePackageConfigHelpers)

set(NN_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/nn" CACHE STRING
    "Where the nn CMake package files go, relative to the prefix")
mark_as_advanced(NN_CMAKE_INSTALL_DIR)

if(NN_BLAS_PC_MODULE)
  set(NN_BLAS_VIA_PKGCONFIG TRUE)
else()
  set(NN_BLAS_VIA_PKGCONFIG FALSE)
endif()

# ---- the static archive, on request ----
if(NN_BUILD_STATIC)
  add_library(nn_static STATIC $<TARGET_OBJECTS:nn_objects>)
  add_library(nn::nn_static ALIAS nn_static)
  set_target_properties(nn_static PROPERTIES OUTPUT_NAME nn)
  target_include_directories(nn_static PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  # A static archive's users link its dependencies: OpenBLAS by a target
  # that nnConfig.cmake recreates through pkg-config on the user's machine,
  # another BLAS by the files this build linked.
  if(NN_BLAS_VIA_PKGCONFIG)
    target_link_libraries(nn_static PRIVATE PkgConfig::OPENBLAS
                          ${CMAKE_THREAD_LIBS_INIT} m)
  else()
    target_link_libraries(nn_static PRIVATE ${NN_BLAS_LIBRARY_FILES}
                          ${CMAKE_THREAD_LIBS_INIT} m)
  endif()
endif()

# ---- library and header ----
install(TARGETS nn EXPORT nnTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    COMPONENT Runtime NAMELINK_COMPONENT Development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT Runtime)
install(FILES ${PROJECT_SOURCE_DIR}/include/nn.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development)
if(NN_BUILD_STATIC)
  install(TARGETS nn_static EXPORT nnStaticTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT Development)
endif()

# ---- the licence, where distributions keep it ----
set(NN_INSTALL_DOCDIR "${CMAKE_INSTALL_DATAROOTDIR}/doc/libnn" CACHE STRING
    "Where the licence and the documentation go, relative to the prefix")
mark_as_advanced(NN_INSTALL_DOCDIR)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE
  DESTINATION ${NN_INSTALL_DOCDIR} COMPONENT Runtime)
if(NN_HAVE_ONNX_READER)
  # the ONNX decoder is generated from a subset of ONNX's onnx.proto
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSES/Apache-2.0.txt
    DESTINATION ${NN_INSTALL_DOCDIR}/LICENSES COMPONENT Runtime)
endif()

# ---- pkg-config: nn.pc ----
# ${pcfiledir} relative prefix: from <prefix>/<libdir>/pkgconfig back up.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  message(FATAL_ERROR "CMAKE_INSTALL_LIBDIR must be relative to the prefix "
                      "(it is ${CMAKE_INSTALL_LIBDIR})")
endif()
file(RELATIVE_PATH NN_PC_PREFIX_FROM_PCFILEDIR
     "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" NN_PC_PREFIX_FROM_PCFILEDIR
       "${NN_PC_PREFIX_FROM_PCFILEDIR}")
if(NN_BLAS_VIA_PKGCONFIG)
  set(NN_PC_REQUIRES_PRIVATE "${NN_BLAS_PC_MODULE}")
  set(NN_PC_LIBS_PRIVATE "${CMAKE_THREAD_LIBS_INIT} -lm")
else()
  # The BLAS is known by its files; pkg-config users want -L and -l flags.
  set(NN_PC_REQUIRES_PRIVATE "")
  set(NN_PC_LIBS_PRIVATE "")
  foreach(_lib IN LISTS NN_BLAS_LIBRARY_FILES)
    if(_lib MATCHES "^-")
      string(APPEND NN_PC_LIBS_PRIVATE "${_lib} ")
    else()
      get_filename_component(_dir "${_lib}" DIRECTORY)
      get_filename_component(_name "${_lib}" NAME_WE)
      string(REGEX REPLACE "^lib" "" _name "${_name}")
      string(APPEND NN_PC_LIBS_PRIVATE "-L${_dir} -l${_name} ")
    endif()
  endforeach()
  string(APPEND NN_PC_LIBS_PRIVATE "${CMAKE_THREAD_LIBS_INIT} -lm")
endif()
if(NN_HAVE_ONNX_READER)
  # the ONNX importer decodes with protobuf-c (src/onnx/onnx.cmake)
  string(STRIP "${NN_PC_REQUIRES_PRIVATE} libprotobuf-c"
         NN_PC_REQUIRES_PRIVATE)
endif()
configure_file(${PROJECT_SOURCE_DIR}/pkgconfig/nn.pc.in
               ${PROJECT_BINARY_DIR}/pkgconfig/nn.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/nn.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT Development)

# ---- CMake package: find_package(nn CONFIG) gives nn::nn ----
install(EXPORT nnTargets NAMESPACE nn:: FILE nnTargets.cmake
  DESTINATION ${NN_CMAKE_INSTALL_DIR} COMPONENT Development)
if(NN_BUILD_STATIC)
  install(EXPORT nnStaticTargets NAMESPACE nn:: FILE nnStaticTargets.cmake
    DESTINATION ${NN_CMAKE_INSTALL_DIR} COMPONENT Development)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nnConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/nnConfig.cmake
  INSTALL_DESTINATION ${NN_CMAKE_INSTALL_DIR})
# The SONAME carries the major version, so any release of the same major is
# a drop-in replacement; a new major is not.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/nnConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/nnConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/nnConfigVersion.cmake
  DESTINATION ${NN_CMAKE_INSTALL_DIR} COMPONENT Development)
