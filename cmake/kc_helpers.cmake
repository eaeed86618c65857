# Shared build settings and one-line test registration for kconform.

# Warnings live on an INTERFACE target, never in CMAKE_<LANG>_FLAGS.
add_library(kc_warnings INTERFACE)
target_compile_options(kc_warnings INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
  $<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra>)
if(KC_WERROR)
  target_compile_options(kc_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Werror>
    $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Werror>)
endif()

# The twin/bitwise promise needs the same IEEE operations on both compilers: no contraction
# except where an fma is written, no flush-to-zero, correctly rounded divide and sqrt.
add_library(kc_fp_strict INTERFACE)
target_compile_options(kc_fp_strict INTERFACE
  $<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off -fno-fast-math>
  $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false -ftz=false -prec-div=true -prec-sqrt=true
                             -Xcompiler=-ffp-contract=off>)

# kc_add_test_run(<test> <target> [GPU] [SOAK] [TIMEOUT <s>] [ARGS <arg>...]): one more ctest
# entry running an existing test executable with other arguments (a filter, a shard).
function(kc_add_test_run name target)
  cmake_parse_arguments(KR "GPU;SOAK" "TIMEOUT" "ARGS" ${ARGN})
  set(labels cpu)
  if(KR_GPU)
    set(labels gpu)
  endif()
  if(KR_SOAK)
    list(APPEND labels soak)
  else()
    list(APPEND labels quick)
  endif()
  if(NOT KR_TIMEOUT)
    set(KR_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${target} ${KR_ARGS})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" SKIP_RETURN_CODE 77
                                          TIMEOUT ${KR_TIMEOUT})
endfunction()

# kc_add_test(<name> SOURCES <src>... [LIBS <lib>...] [GPU] [SOAK] [TIMEOUT <s>] [ARGS <arg>...])
# Labels: cpu or gpu, and quick (default) or soak. A GPU test links kc_gpu_test_main, which
# exits 77 when no CUDA device is present; ctest then reports it as skipped, never passed.
function(kc_add_test name)
  cmake_parse_arguments(KT "GPU;SOAK" "TIMEOUT" "SOURCES;LIBS;ARGS" ${ARGN})
  add_executable(${name} ${KT_SOURCES})
  target_link_libraries(${name} PRIVATE ${KT_LIBS} GTest::gtest kc_warnings kc_fp_strict)
  if(KT_GPU)
    target_link_libraries(${name} PRIVATE kc_gpu_test_main)
    set(labels gpu)
  else()
    target_link_libraries(${name} PRIVATE GTest::gtest_main)
    set(labels cpu)
  endif()
  if(KT_SOAK)
    list(APPEND labels soak)
  else()
    list(APPEND labels quick)
  endif()
  if(NOT KT_TIMEOUT)
    set(KT_TIMEOUT 600)
  endif()
  add_test(NAME ${name} COMMAND ${name} ${KT_ARGS})
  set_tests_properties(${name} PROPERTIES LABELS "${labels}" SKIP_RETURN_CODE 77
                                          TIMEOUT ${KT_TIMEOUT})
endfunction()

# kc_add_property(<subject> <property> [GPU] [ARGS <arg>...]): one ctest per (subject, property),
# running `kconform check` at the quick level with the pair's fixed seed (ARGS: more options,
# e.g. --cases); a failing case leaves its repro in <build>/repros.
function(kc_add_property subject property)
  cmake_parse_arguments(KP "GPU" "" "ARGS" ${ARGN})
  set(labels cpu quick)
  if(KP_GPU)
    set(labels gpu quick)
  endif()
  add_test(NAME prop/${subject}/${property}
           COMMAND kconform check --subject ${subject} --property ${property} --quiet
                   --repro-dir ${PROJECT_BINARY_DIR}/repros ${KP_ARGS})
  set_tests_properties(prop/${subject}/${property} PROPERTIES LABELS "${labels}"
                       SKIP_RETURN_CODE 77 TIMEOUT 900)
endfunction()
