# End-to-end tests through the cnndyn executable, under mpirun at 1 and 2 ranks.
foreach(case ranks input tools diverge isa)
  add_test(NAME e2e_${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/e2e.sh ${case} $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(e2e_${case} PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 900)
endforeach()
