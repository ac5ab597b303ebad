# Hostile input through the cnndyn executable (tests/badinput.sh): one clear message, exit 1,
# outputs untouched.
foreach(case runcsv compare resume snapshot cli)
  add_test(NAME badinput_${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/badinput.sh ${case} $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(badinput_${case} PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 600)
endforeach()
