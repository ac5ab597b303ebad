# A private single-node Slurm runs slurm/population.sbatch (tests/slurm.sh); skipped (77) only
# where Slurm cannot start at all.
add_test(NAME slurm COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm.sh $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR})
set_tests_properties(slurm PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 600 SKIP_RETURN_CODE 77 RESOURCE_LOCK slurm)
# slurm/population_array.sbatch split over 3 array tasks, merged by slurm/population_merge.sbatch.
add_test(NAME slurm_array COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/slurm.sh $<TARGET_FILE:cnndyn_cli> ${PROJECT_SOURCE_DIR} array)
set_tests_properties(slurm_array PROPERTIES ENVIRONMENT "${CDN_TEST_ENV}" TIMEOUT 900 SKIP_RETURN_CODE 77 RESOURCE_LOCK slurm)
