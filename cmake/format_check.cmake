# Fails when any tracked C++/CUDA source differs from its clang-format output.
file(GLOB_RECURSE files RELATIVE "${SOURCE_DIR}"
     "${SOURCE_DIR}/reference/*" "${SOURCE_DIR}/kernels/*" "${SOURCE_DIR}/properties/*"
     "${SOURCE_DIR}/fuzz/*" "${SOURCE_DIR}/bench/*" "${SOURCE_DIR}/reports/*")
list(FILTER files INCLUDE REGEX "\\.(h|hpp|cpp|cu|cuh)$")
set(bad "")
foreach(f IN LISTS files)
  execute_process(COMMAND "${CLANG_FORMAT}" --dry-run --Werror "${SOURCE_DIR}/${f}"
                  RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(NOT rc EQUAL 0)
    list(APPEND bad "${f}")
  endif()
endforeach()
list(LENGTH files n)
if(bad)
  string(REPLACE ";" "\n  " bad_lines "${bad}")
  message(FATAL_ERROR "not clang-formatted (run clang-format -i on them):\n  ${bad_lines}")
endif()
message("format_check: ${n} files clang-formatted")
