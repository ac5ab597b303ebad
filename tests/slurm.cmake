# A private single-node Slurm runs slurm/population.sbatch (tests/slurm.sh); skipped (77) only
# where Slurm cannot start at all.
add_test(NAME slurm COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm.sh $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(slurm PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 600 SKIP_RETURN_CODE 77)
