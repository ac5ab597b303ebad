# Graph tests that need two ranks: a graph held by a communicator of 2 gives the statistics of
# the same graph on one rank. And the graph tools on a tiny run's snapshots.
add_test(NAME graph_mpi_2
         COMMAND ${MPIEXEC_EXECUTABLE} -n 2 --oversubscribe $<TARGET_FILE:test_graph_mpi>
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(graph_mpi_2 PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300 LABELS unit)
add_test(NAME graph_tools
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/graphs.sh $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(graph_tools PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
# The graph matrices built straight into AIJ arrays equal COO assembly's bit for bit, split over 2 ranks too.
add_test(NAME graph_csr_2
         COMMAND ${MPIEXEC_EXECUTABLE} -n 2 --oversubscribe $<TARGET_FILE:test_graph_csr>
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(graph_csr_2 PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
# A single layer's graph solved through its dense block gives the general solver's centrality on 2 ranks.
add_test(NAME graph_fc_2
         COMMAND ${MPIEXEC_EXECUTABLE} -n 2 --oversubscribe $<TARGET_FILE:test_graph_fc>
         WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(graph_fc_2 PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
# [output] snapshot_format = npz: numpy.load reads every tensor as the npy run wrote it; the graph
# tools read inside the archive; resume and damage.
add_test(NAME snapshot_npz
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/snapshot_npz.sh $<TARGET_FILE:cnndyn_cli>)
set_tests_properties(snapshot_npz PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
