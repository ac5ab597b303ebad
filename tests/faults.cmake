# Damaged files and a full disk (tests/faults.sh). fault_diskfull mounts a tmpfs: where mounting is
# not permitted it says SKIP and exits 77, which ctest reports as skipped.
foreach(case checkpoint snapshot dataset diskfull)
  add_test(NAME fault_${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/faults.sh ${case} $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(fault_${case} PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300 SKIP_RETURN_CODE 77)
endforeach()
