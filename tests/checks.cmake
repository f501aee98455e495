# Script checks registered with ctest beside the cmocka suites.
add_test(NAME seam_check
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/seam_check.sh ${CMAKE_CURRENT_SOURCE_DIR}/seam_allowlist.txt
                 $<TARGET_FILE:evc_core> $<TARGET_FILE:evc_p2p> $<TARGET_FILE:evc_exec> $<TARGET_FILE:evc_store>
                 $<TARGET_FILE:evc_crypto> $<TARGET_FILE:evc_types> $<TARGET_FILE:evc_common>)
# Proof the check can fail: a library that reads the wall clock directly must be refused.
add_library(evc_seam_canary STATIC ${CMAKE_CURRENT_SOURCE_DIR}/seam_canary.c)
add_test(NAME seam_check_rejects_clock_call
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/seam_check.sh ${CMAKE_CURRENT_SOURCE_DIR}/seam_allowlist.txt
                 $<TARGET_FILE:evc_seam_canary> $<TARGET_FILE:evc_common>)
set_tests_properties(seam_check_rejects_clock_call PROPERTIES
                     PASS_REGULAR_EXPRESSION "uses .time., outside the allow-list")

# Every scenario, seeds 1..EVC_SCENARIO_SEEDS, each run twice (--check-determinism).
set(EVC_SCENARIO_SEEDS 20 CACHE STRING "seeds per scenario in ctest")
file(GLOB EVC_SCENARIOS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/scenarios/*.json)
foreach(scenario ${EVC_SCENARIOS})
  get_filename_component(name ${scenario} NAME_WE)
  add_test(NAME scenario_${name}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/scenario_check.sh $<TARGET_FILE:evc-sim>
                   ${scenario} ${EVC_SCENARIO_SEEDS})
  set_tests_properties(scenario_${name} PROPERTIES TIMEOUT 900)
endforeach()

# The same trace hashes from a build with the other compiler (gcc <-> clang); run in the
# sanitizer build too, this covers gcc, clang and sanitizer builds.
if(CMAKE_C_COMPILER_ID STREQUAL "GNU")
  set(EVC_OTHER_CC clang)
else()
  set(EVC_OTHER_CC gcc)
endif()
add_test(NAME determinism_across_builds
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/determinism_across_builds.sh ${CMAKE_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR} ${EVC_OTHER_CC} ${CMAKE_BINARY_DIR}/determinism-${EVC_OTHER_CC})
set_tests_properties(determinism_across_builds PROPERTIES TIMEOUT 1200 RUN_SERIAL TRUE)

# The canary build must be caught by the ordinary checker (not built in sanitizer runs).
if(NOT EVC_SANITIZE AND NOT EVC_CANARY)
  add_test(NAME canary_caught_as_safety
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/canary_check.sh ${CMAKE_SOURCE_DIR}
                   ${CMAKE_BINARY_DIR}/canary)
  set_tests_properties(canary_caught_as_safety PROPERTIES TIMEOUT 1200 RUN_SERIAL TRUE)
endif()
