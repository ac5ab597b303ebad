# Every committed fuzz seed and every input a fuzzer once crashed on (bench/fuzz/corpus/NAME,
# bench/fuzz/regressions/NAME) replayed through its target: a crash fixed stays fixed.
file(GLOB fuzz_targets LIST_DIRECTORIES true RELATIVE ${PROJECT_SOURCE_DIR}/bench/fuzz/corpus
     ${PROJECT_SOURCE_DIR}/bench/fuzz/corpus/*)
foreach(t ${fuzz_targets})
  set(dirs ${PROJECT_SOURCE_DIR}/bench/fuzz/corpus/${t})
  if(EXISTS ${PROJECT_SOURCE_DIR}/bench/fuzz/regressions/${t})
    list(APPEND dirs ${PROJECT_SOURCE_DIR}/bench/fuzz/regressions/${t})
  endif()
  add_test(NAME fuzz_${t} COMMAND fuzz_replay ${t} ${dirs})
  set_tests_properties(fuzz_${t} PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
endforeach()
