# Script checks registered with ctest beside the cmocka suites.
add_test(NAME seam_check
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/seam_check.sh ${CMAKE_CURRENT_SOURCE_DIR}/seam_allowlist.txt
                 $<TARGET_FILE:evc_core> $<TARGET_FILE:evc_exec> $<TARGET_FILE:evc_store>
                 $<TARGET_FILE:evc_crypto> $<TARGET_FILE:evc_types> $<TARGET_FILE:evc_common>)
# Proof the check can fail: a library that reads the wall clock directly must be refused.
add_library(evc_seam_canary STATIC ${CMAKE_CURRENT_SOURCE_DIR}/seam_canary.c)
add_test(NAME seam_check_rejects_clock_call
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/seam_check.sh ${CMAKE_CURRENT_SOURCE_DIR}/seam_allowlist.txt
                 $<TARGET_FILE:evc_seam_canary> $<TARGET_FILE:evc_common>)
set_tests_properties(seam_check_rejects_clock_call PROPERTIES
                     PASS_REGULAR_EXPRESSION "uses .time., outside the allow-list")
