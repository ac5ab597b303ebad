# Transfer splits (held-out family, narrow to wide) end to end, at 1 and 2 ranks.
add_test(NAME transfer_e2e COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/transfer.sh $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(transfer_e2e PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 600)
