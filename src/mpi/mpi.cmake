# SPDX-License-Identifier: MIT
# libnn_mpi (include/nn_mpi.h, src/mpi/): data-parallel training on MPI, a
# separate shared library on libnn's public API. Built when CMake finds an
# MPI for C (Debian: libopenmpi-dev) and NN_BUILD_MPI (AUTO, ON or OFF,
# cmake/NNOptional.cmake) allows; libnn itself
# never links MPI. Included by the top CMakeLists.txt after the packaging
# of libnn (it adds to the same CMake package).
#
# Why src/mpi/ and not a top-level mpi/: DESIGN.md places the optional
# parts of the library (src/onnx, src/mpi) beside the core's sources,
# while their tests, ABI baseline and consumers sit with the core's under
# tests/; what keeps libnn free of MPI is the rule that src/mpi uses nn.h
# alone (no nn_internal.h include path is given to it), not a directory.

nn_tristate(NN_BUILD_MPI "Build libnn_mpi, data-parallel training on MPI")
if(NN_BUILD_MPI)
  find_package(MPI COMPONENTS C QUIET)
endif()
# NN_HAVE_MPI: libnn_mpi is built (its tests, example and benchmark follow)
nn_part(NN_HAVE_MPI NN_BUILD_MPI MPI_C_FOUND "libnn_mpi"
        "an MPI for C (Debian, Ubuntu: libopenmpi-dev openmpi-bin)")
if(NOT NN_HAVE_MPI)
  return()
endif()
message(STATUS "libnn_mpi: building against MPI ${MPI_C_VERSION} "
               "(${MPI_C_LIB_NAMES})")

add_library(nn_mpi SHARED ${PROJECT_SOURCE_DIR}/src/mpi/nn_mpi.c)
add_library(nn::nn_mpi ALIAS nn_mpi)
set_target_properties(nn_mpi PROPERTIES
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF
  C_VISIBILITY_PRESET hidden)
target_include_directories(nn_mpi PUBLIC
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
# Public: nn_mpi.h includes nn.h and mpi.h, and its users call both.
target_link_libraries(nn_mpi PUBLIC nn MPI::MPI_C)
target_compile_options(nn_mpi PRIVATE ${NN_WARNINGS}
  $<$<OR:$<CONFIG:Release>,$<CONFIG:RelWithDebInfo>>:-O3>)
target_link_options(nn_mpi PRIVATE LINKER:--no-undefined LINKER:-z,noexecstack)

# ---- install: library, header, pkg-config nn-mpi, CMake nn::nn_mpi ----
install(TARGETS nn_mpi EXPORT nnMpiTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    COMPONENT Runtime NAMELINK_COMPONENT Development)
install(FILES ${PROJECT_SOURCE_DIR}/include/nn_mpi.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT Development)
install(EXPORT nnMpiTargets NAMESPACE nn:: FILE nnMpiTargets.cmake
  DESTINATION ${NN_CMAKE_INSTALL_DIR} COMPONENT Development)
# The pkg-config module of the MPI it was built with: Open MPI's own name
# where that is the MPI (libnn_mpi's ABI is that MPI's), else Debian's
# generic mpi-c.
if("${MPI_C_LIBRARIES};${MPI_C_INCLUDE_DIRS}" MATCHES "openmpi")
  set(NN_MPI_PC_REQUIRES "ompi-c")
else()
  set(NN_MPI_PC_REQUIRES "mpi-c")
endif()
configure_file(${PROJECT_SOURCE_DIR}/pkgconfig/nn-mpi.pc.in
               ${PROJECT_BINARY_DIR}/pkgconfig/nn-mpi.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/pkgconfig/nn-mpi.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT Development)
