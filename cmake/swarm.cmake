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

# swarm_fuzz(NAME SOURCES f.cpp DEPS swarm_crypto)
# A fuzz target is a file defining LLVMFuzzerTestOneInput. With -DSWARM_FUZZ=ON
# and clang it becomes a libFuzzer binary (fuzz_<NAME>); otherwise it is linked
# with fuzz/standalone_main.cpp, which replays random and mutated inputs for a
# bounded count, and is registered as a CTest with label `fuzz`.
function(swarm_fuzz name)
  cmake_parse_arguments(F "" "" "SOURCES;DEPS" ${ARGN})
  if(SWARM_FUZZ)
    add_executable(fuzz_${name} ${F_SOURCES})
    target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  else()
    add_executable(fuzz_${name} ${F_SOURCES} ${CMAKE_SOURCE_DIR}/fuzz/standalone_main.cpp)
    add_test(NAME fuzz_${name} COMMAND fuzz_${name} --runs 20000 --seed 1)
    set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz TIMEOUT 300)
  endif()
  target_include_directories(fuzz_${name} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(fuzz_${name} PRIVATE ${F_DEPS})
  set_property(GLOBAL APPEND PROPERTY SWARM_FUZZERS fuzz_${name})
endfunction()

# swarm_bench(NAME SOURCES b.cpp DEPS ...)
# A benchmark binary bench_<NAME>. It prints result rows as JSON lines (see
# bench/bench_util.h); scripts/bench runs every bench_* binary and writes
# bench/RESULTS.md.
function(swarm_bench name)
  cmake_parse_arguments(B "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(bench_${name} ${B_SOURCES})
  target_include_directories(bench_${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/bench)
  target_compile_options(bench_${name} PRIVATE ${SWARM_WARNINGS})
  target_link_libraries(bench_${name} PRIVATE ${B_DEPS} nlohmann_json::nlohmann_json)
  set_property(GLOBAL APPEND PROPERTY SWARM_BENCHES bench_${name})
endfunction()
