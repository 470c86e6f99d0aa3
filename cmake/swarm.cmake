# Helpers every module uses. Keep module CMakeLists.txt files to a few lines.
include(GoogleTest)

set(SWARM_WARNINGS -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers)

# swarm_module(NAME SOURCES a.cpp b.cpp DEPS swarm_common OpenSSL::Crypto)
# Defines library swarm_<NAME>; public include root is src/ so code says
# #include "crypto/sha3.h".
function(swarm_module name)
  cmake_parse_arguments(M "" "" "SOURCES;DEPS" ${ARGN})
  add_library(swarm_${name} STATIC ${M_SOURCES})
  target_include_directories(swarm_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_compile_options(swarm_${name} PRIVATE ${SWARM_WARNINGS})
  target_link_libraries(swarm_${name} PUBLIC ${M_DEPS})
endfunction()

# swarm_test(NAME SOURCES t.cpp DEPS swarm_crypto LABELS unit [TIMEOUT 120])
# One GoogleTest binary; each TEST becomes one CTest test carrying LABELS.
function(swarm_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/tests)
  target_compile_options(${name} PRIVATE ${SWARM_WARNINGS})
  target_compile_definitions(${name} PRIVATE
      SWARM_VECTORS_DIR="${SWARM_VECTORS_DIR}"
      SWARM_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
      SWARM_BINARY_DIR="${CMAKE_BINARY_DIR}")
  target_link_libraries(${name} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  gtest_discover_tests(${name}
      PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
      DISCOVERY_TIMEOUT 60)
endfunction()
