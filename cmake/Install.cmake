# `cmake --install` lays out the tools, the runtime and a CMake package:
#
#   bin/attnc, bin/attn-run
#   include/attnc/*.h                the runtime's C headers
#   lib/libattnc_runtime.{a,so}
#   lib/cmake/attnc/                 attncConfig.cmake (find_package(attnc)),
#                                    the exported targets, AttncModel.cmake
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ATTNC_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/attnc")

# The tools link Debian's libLLVM/libMLIR from a directory the loader does
# not search; keep that directory in their installed RUNPATH.
set_target_properties(attnc attn-run PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)
install(TARGETS attnc attn-run EXPORT attncTargets
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set_target_properties(attnc_runtime PROPERTIES EXPORT_NAME runtime)
set_target_properties(attnc_runtime_shared PROPERTIES EXPORT_NAME runtime_shared)
install(TARGETS attnc_runtime attnc_runtime_shared EXPORT attncTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# The Halide backend module, where attnc looks for it (lib/attnc/, next to
# bin/); never linked, so not exported.
if(ATTNC_ENABLE_HALIDE)
  install(TARGETS attnc-halide LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/attnc)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/runtime/include/attnc
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(EXPORT attncTargets NAMESPACE attnc::
        DESTINATION ${ATTNC_INSTALL_CMAKEDIR})
configure_package_config_file(
  ${PROJECT_SOURCE_DIR}/cmake/attncConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/attncConfig.cmake
  INSTALL_DESTINATION ${ATTNC_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/cmake/attncConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/attncConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/attncConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/AttncModel.cmake
        DESTINATION ${ATTNC_INSTALL_CMAKEDIR})
