# In-run pruning (tests/prune.sh): policies at 1 and 2 ranks, shadow mode, kill -9 + resume, refusals.
foreach(case halving predictor resume refuse)
  add_test(NAME prune_${case} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/prune.sh ${case} $<TARGET_FILE:cnndyn_cli>)
  set_tests_properties(prune_${case} PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 600)
endforeach()
# An outside review's findings (review14), each a regression test of its fix
foreach(case review14_signal review14_refuse review14_reader review14_family review14_diverged_warmup)
  add_test(NAME prune_${case} COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/prune.sh ${case} $<TARGET_FILE:cnndyn_cli>)
  set_tests_properties(prune_${case} PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 600)
endforeach()
