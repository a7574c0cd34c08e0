# relay_add_fuzzer(name source libs...): a libFuzzer binary when RELAY_FUZZ is on (clang);
# always a replay binary (standalone driver) that CTest runs over the committed corpus, so the
# regression inputs are exercised by every build.
function(relay_add_fuzzer name source)
  set(libs ${ARGN})
  if(RELAY_FUZZ)
    add_executable(${name}_fuzz ${source})
    target_compile_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_libraries(${name}_fuzz PRIVATE ${libs} relay_warnings)
  endif()
  add_executable(${name}_replay ${source} ${PROJECT_SOURCE_DIR}/fuzz/replay_main.cpp)
  target_link_libraries(${name}_replay PRIVATE ${libs} relay_warnings)
  add_test(NAME fuzz_replay.${name}
           COMMAND ${name}_replay ${PROJECT_SOURCE_DIR}/fuzz/corpus/${name})
endfunction()
