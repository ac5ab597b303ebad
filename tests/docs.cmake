# Every relative link of README.md and docs/ resolves, and no source names a .md file the
# repository does not hold (tests/docs_links.py): documentation moves, references must follow.
add_test(NAME docs_links COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/docs_links.py ${PROJECT_SOURCE_DIR})
set_tests_properties(docs_links PROPERTIES TIMEOUT 60)
