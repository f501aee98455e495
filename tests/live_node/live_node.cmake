# The live end-to-end test: evc-da, a sequencer and a full node as real processes on
# 127.0.0.1 (tests/live_node/run.sh). Included from tests/CMakeLists.txt.
if(TARGET evc-node AND TARGET evc-da)
  add_test(NAME live_node_end_to_end
           COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/run.sh $<TARGET_FILE_DIR:evc-node>)
  set_tests_properties(live_node_end_to_end PROPERTIES TIMEOUT 180)
endif()
