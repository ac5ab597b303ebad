# The analysis page (analysis/report.py) on the smoke job's output: figures, tables, bad input.
add_test(NAME analysis_page
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/test_analysis.sh $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(analysis_page PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 900)
