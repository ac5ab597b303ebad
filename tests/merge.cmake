# Part runs (run --part I/N) merged by `cnndyn merge` equal a whole run byte for byte; bad merges
# are refused with one message and no output (tests/merge.sh).
add_test(NAME merge COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/merge.sh $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(merge PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 900)
