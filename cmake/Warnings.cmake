# Warnings are errors for everything the project compiles itself.
add_library(relay_warnings INTERFACE)
target_compile_options(relay_warnings INTERFACE -Wall -Wextra -Werror -Wno-unused-parameter)
