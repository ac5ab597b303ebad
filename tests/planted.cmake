# The planted-signal test of the comparison protocol (issue 16): a graph column replaced by the
# label must make graph-only win with a difference interval above zero; graph columns replaced by
# noise must not.
add_test(NAME predict_planted
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/planted.sh $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(predict_planted PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 600)
