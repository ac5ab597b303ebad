# A team of 2 ranks holding its models' graphs as distributed matrices (tests/teamgraph.sh).
add_test(NAME cluster_teamgraph
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/teamgraph.sh $<TARGET_FILE:cnndyn_cli>)
set_tests_properties(cluster_teamgraph PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
