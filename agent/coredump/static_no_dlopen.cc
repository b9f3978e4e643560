// Linked only into the static vigie-coredump (agent/coredump/CMakeLists.txt), whose link wraps
// dlopen() with -Wl,--wrap=dlopen.
//
// libdw's one dlopen() loads its optional debuginfod client (libdebuginfod.so.1, libcurl and a
// second, shared libc) whenever a module has no local debug info. A static program must not
// load shared objects: they need exactly the glibc it was linked with, which a host or a
// container image need not have. The kernel starts the helper without DEBUGINFOD_URLS, so the
// client could not download anything anyway. Failing the load makes libdw behave as it does
// when the library is not installed: local files only.

// NOLINTNEXTLINE(bugprone-reserved-identifier, readability-identifier-naming): ld's wrap name.
extern "C" void* __wrap_dlopen(const char* /*file*/, int /*mode*/) {
  return nullptr;
}
