# Warnings are errors for everything the project compiles itself.
add_library(relay_warnings INTERFACE)
target_compile_options(relay_warnings INTERFACE -Wall -Wextra -Werror -Wno-unused-parameter)
# GCC 12 at -O3 reports libstdc++'s own inlined memcpy/memmove in std::string and std::vector
# (GCC bugs 105329, 105651, 106199): keep these visible, but not fatal.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12)
  target_compile_options(relay_warnings INTERFACE
    -Wno-error=array-bounds -Wno-error=restrict -Wno-error=stringop-overflow
    -Wno-error=stringop-overread)
endif()
