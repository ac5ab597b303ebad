# Every committed fuzz seed and every input a fuzzer once crashed on (bench/fuzz/corpus/NAME,
# bench/fuzz/regressions/NAME) replayed through its target: a crash fixed stays fixed.
foreach(t jobspec idx cifar snapshot npz predictor results watch)
  set(dirs ${PROJECT_SOURCE_DIR}/bench/fuzz/corpus/${t})
  if(EXISTS ${PROJECT_SOURCE_DIR}/bench/fuzz/regressions/${t})
    list(APPEND dirs ${PROJECT_SOURCE_DIR}/bench/fuzz/regressions/${t})
  endif()
  add_test(NAME fuzz_${t} COMMAND fuzz_replay ${t} ${dirs})
  set_tests_properties(fuzz_${t} PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
endforeach()
