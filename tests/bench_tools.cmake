# The bench tools' input checks (bench_tools.sh): one-line errors of bench_train, bench_split,
# bench_graph and bench_peak; bench/train/shares.sh's argument checks, and its perf runs where perf may sample.
add_test(NAME bench_tools
         COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/bench_tools.sh ${PROJECT_SOURCE_DIR} $<TARGET_FILE:bench_train>
                 $<TARGET_FILE:bench_split> $<TARGET_FILE:bench_graph> $<TARGET_FILE:bench_peak>)
set_tests_properties(bench_tools PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 300)
