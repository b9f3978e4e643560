# Install rules and the Debian package (CPack DEB). `make package` builds build/vigie_*.deb.
#
# Paths that other files name are absolute on purpose: the unit runs /usr/bin/vigied, vigied
# reads /etc/vigie/vigie.yaml by default, and the kernel's core_pattern names the crash helper
# at /usr/libexec/vigie/vigie-coredump. Only the binaries and docs follow the install prefix
# (/usr in the package). A staged install therefore takes DESTDIR, not just --prefix:
#   DESTDIR=/tmp/stage cmake --install build --prefix /usr
include(GNUInstallDirs)

set(VIGIE_PACKAGING_DIR ${PROJECT_SOURCE_DIR}/packaging)
set(VIGIE_PACKAGE_MAINTAINER "vigie maintainers <vigie-maintainers@example.org>"
    CACHE STRING "Maintainer field of the Debian package")

# The programs the package ships. vigie_packaged_binaries builds just them (the Dockerfile and
# the packaging tests use it instead of building every test and benchmark).
install(TARGETS vigied RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
set(VIGIE_PACKAGED_TARGETS vigied)
set(VIGIE_PACKAGED_PROGRAMS /usr/bin/vigied)
# The CLI, and the crash helper (statically linked, see agent/coredump/CMakeLists.txt: the image's
# init container copies it to the host). Each is packaged when its target exists.
if(TARGET vigiectl)
  install(TARGETS vigiectl RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  list(APPEND VIGIE_PACKAGED_TARGETS vigiectl)
  list(APPEND VIGIE_PACKAGED_PROGRAMS /usr/bin/vigiectl)
endif()
if(TARGET vigie-coredump)
  install(TARGETS vigie-coredump RUNTIME DESTINATION /usr/libexec/vigie)
  list(APPEND VIGIE_PACKAGED_TARGETS vigie-coredump)
  list(APPEND VIGIE_PACKAGED_PROGRAMS /usr/libexec/vigie/vigie-coredump)
endif()
add_custom_target(vigie_packaged_binaries)
add_dependencies(vigie_packaged_binaries ${VIGIE_PACKAGED_TARGETS})
# Where the package puts them, for tests/packaging (one path a line).
list(JOIN VIGIE_PACKAGED_PROGRAMS "\n" VIGIE_PACKAGED_PROGRAM_LINES)
file(WRITE ${CMAKE_BINARY_DIR}/packaging/programs.txt "${VIGIE_PACKAGED_PROGRAM_LINES}\n")

# Debian 12 ships units in /lib (the /usr merge of package contents comes later).
install(FILES ${PROJECT_SOURCE_DIR}/systemd/vigie.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/tmpfiles.d/vigie.conf DESTINATION /usr/lib/tmpfiles.d)
install(FILES ${PROJECT_SOURCE_DIR}/systemd/sysusers.d/vigie.conf DESTINATION /usr/lib/sysusers.d)

# Conffiles (listed in packaging/debian/conffiles): dpkg keeps local edits across upgrades.
install(FILES ${VIGIE_PACKAGING_DIR}/vigie.yaml DESTINATION /etc/vigie)
install(FILES ${VIGIE_PACKAGING_DIR}/workloads.d/README DESTINATION /etc/vigie/workloads.d)

# Debian wants the changelog compressed without a timestamp, so the package is reproducible.
set(VIGIE_DEBIAN_CHANGELOG ${VIGIE_PACKAGING_DIR}/debian/changelog)
set(VIGIE_DEBIAN_CHANGELOG_GZ ${CMAKE_BINARY_DIR}/packaging/changelog.Debian.gz)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${VIGIE_DEBIAN_CHANGELOG})
execute_process(COMMAND gzip -9nc ${VIGIE_DEBIAN_CHANGELOG}
                OUTPUT_FILE ${VIGIE_DEBIAN_CHANGELOG_GZ} COMMAND_ERROR_IS_FATAL ANY)

# The README and docs/*.md (install, crash capture, API, metrics, ...) for operators on the host.
set(VIGIE_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/vigie)
file(GLOB VIGIE_DOCS CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/docs/*.md)
install(FILES ${VIGIE_PACKAGING_DIR}/debian/copyright ${VIGIE_DEBIAN_CHANGELOG_GZ}
              ${PROJECT_SOURCE_DIR}/README.md ${VIGIE_DOCS}
        DESTINATION ${VIGIE_DOC_DIR})
install(FILES ${VIGIE_PACKAGING_DIR}/debian/lintian-overrides
        DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME vigie)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vigie)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_CONTACT "${VIGIE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${VIGIE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)  # must match the top entry of packaging/debian/changelog
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # vigie_<version>-<release>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "node agent that supervises processes and keeps crash evidence")
# CPack writes the summary as the synopsis line, then this as the extended description (lines
# under 80 columns for dpkg and lintian).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "vigied runs on every node, as a systemd unit, and supervises the
processes declared in /etc/vigie/vigie.yaml: it starts them, restarts a
crashed one at once (then backs off if it keeps crashing), keeps the last
output of every instance and stops them cleanly. vigiectl and a control
plane talk to it over gRPC; Prometheus metrics and a health check are
served on loopback.")
# Library dependencies come from dpkg-shlibdeps; adduser is for the postinst without systemd.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# Container units need an OCI runtime, and `init: true` a static init (docs/containers.md).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "runc | crun, tini | catatonit")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${VIGIE_PACKAGING_DIR}/debian/conffiles ${VIGIE_PACKAGING_DIR}/debian/postinst
    ${VIGIE_PACKAGING_DIR}/debian/prerm ${VIGIE_PACKAGING_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
# Stripped binaries in vigie, their debug info in vigie-dbgsym (a .ddeb): the crash helper and
# gdb find it by build-id in /usr/lib/debug when it is installed.
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
# `make package_source` must not sweep build trees and state into a tarball.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/\\\\.state/")
include(CPack)
