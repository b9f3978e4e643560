# Compile options for our own code. Generated code and third-party headers do not get them.
add_library(vigie_warnings INTERFACE)
target_compile_options(vigie_warnings INTERFACE -Wall -Wextra -Werror -Wshadow -Wnon-virtual-dtor
                                                -Wold-style-cast -Wimplicit-fallthrough)
# GCC 12 reports impossible -Wrestrict overlaps in inlined std::string assignments (GCC PR 105329).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(vigie_warnings INTERFACE -Wno-restrict)
endif()
if(VIGIE_SANITIZE)
  target_compile_options(vigie_warnings INTERFACE -fsanitize=${VIGIE_SANITIZE} -fno-omit-frame-pointer
                                                  -fno-sanitize-recover=all)
  target_link_options(vigie_warnings INTERFACE -fsanitize=${VIGIE_SANITIZE})
endif()

# A library of ours: warnings as errors, include/ as the public contract folder.
function(vigie_library name)
  add_library(${name} STATIC ${ARGN})
  target_link_libraries(${name} PUBLIC vigie_warnings)
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
endfunction()

function(vigie_executable name)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE vigie_warnings)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR})
endfunction()

# Test workloads must behave like real programs: no sanitizer runtime, plain flags.
function(vigie_helper_program name)
  add_executable(${name} ${ARGN})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -O1)
  set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests/helpers)
endfunction()
