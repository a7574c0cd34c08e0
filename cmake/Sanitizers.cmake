# RELAY_SANITIZE: comma-separated list passed to -fsanitize (address,undefined | thread).
set(RELAY_SANITIZE "" CACHE STRING "Sanitizers to build with, e.g. address,undefined")
if(RELAY_SANITIZE)
  add_compile_options(-fsanitize=${RELAY_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${RELAY_SANITIZE})
endif()
