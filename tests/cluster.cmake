# Cluster operations (tests/cluster.sh): dynamic scheduling, checkpoint and resume, live progress.
foreach(case schedule resume failure progress team)
  add_test(NAME cluster_${case}
           COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cluster.sh ${case} $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
  set_tests_properties(cluster_${case} PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
endforeach()
