# What `cmake --install` puts under the prefix, and the Debian package `make package`
# builds from it (CPack):
#   include/ashlar/...            the public headers of every library
#   lib/libashlar.so*             the engine (model, event log, projections, notifiers, runtime)
#   lib/libashlar_http.so*        the HTTP API (ashlar/http/server.hpp)
#   bin/ashlar                    the command line
#   lib/cmake/ashlar/             find_package(ashlar CONFIG): ashlar::ashlar, ashlar::http
#   lib/pkgconfig/ashlar.pc       pkg-config: ashlar, ashlar-http
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

foreach(module model eventlog projections notifiers engine http)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${module}/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endforeach()

set_target_properties(ashlar_shared PROPERTIES EXPORT_NAME ashlar)
set_target_properties(ashlar_http PROPERTIES EXPORT_NAME http)
target_include_directories(ashlar_shared INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_include_directories(ashlar_http INTERFACE $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
install(TARGETS ashlar_shared ashlar_http EXPORT ashlarTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ashlar RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(ASHLAR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/ashlar)
install(EXPORT ashlarTargets NAMESPACE ashlar:: DESTINATION ${ASHLAR_CMAKE_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/ashlarConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/ashlarConfig.cmake INSTALL_DESTINATION ${ASHLAR_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/ashlarConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/ashlarConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/ashlarConfigVersion.cmake
  DESTINATION ${ASHLAR_CMAKE_DIR})

# The .pc files find the prefix from where they are, so `cmake --install --prefix DIR`
# installs working ones wherever DIR is.
file(RELATIVE_PATH ASHLAR_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
foreach(pc ashlar ashlar-http)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# make package: a .deb of the same files under /usr. Its Depends are the Debian packages
# of the shared libraries it links (dpkg-shlibdeps), and nlohmann-json3-dev, which the
# public headers include. Its binaries are stripped, as Debian's are (the build tree keeps
# the debug information).
set(CPACK_GENERATOR DEB)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_NAME ashlar)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "embeddable event-sourced domain engine for C++ (after Elixir's Ash)")
set(CPACK_PACKAGE_CONTACT "ashlar maintainers <ashlar@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "nlohmann-json3-dev")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
include(CPack)
