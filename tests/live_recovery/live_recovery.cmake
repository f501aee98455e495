# Live recovery and bad-input tests: evc-da, sequencers and full nodes as real processes on
# 127.0.0.1 (tests/live_recovery/*.sh), plus the lying DA they need (fake_da.c).
# Included from tests/CMakeLists.txt; registers nothing when the binaries are not built.
if(TARGET evc-node AND TARGET evc-da)
  add_executable(evc_fake_da ${CMAKE_CURRENT_LIST_DIR}/fake_da.c)
  set(EVC_LR_BIN $<TARGET_FILE_DIR:evc-node>)
  foreach(name recovery_from_da recovery_from_p2p bad_input)
    add_test(NAME live_${name}
             COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/${name}.sh ${EVC_LR_BIN}
                     $<TARGET_FILE:evc_fake_da>)
    # Each script bounds its own waits (well under a minute); this is the backstop.
    set_tests_properties(live_${name} PROPERTIES TIMEOUT 180)
  endforeach()
endif()
