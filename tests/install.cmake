# `cmake --install` + a program outside the tree built with pkg-config.
# (Not under sanitizers: the outside program is built without them.)
if(NOT QLITE_SANITIZE)
  add_test(NAME install_pkgconfig
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/install/check_install.sh ${PROJECT_BINARY_DIR}
                   ${CMAKE_CURRENT_SOURCE_DIR}/install/external.c
                   ${CMAKE_CURRENT_BINARY_DIR}/tmp/install ${CMAKE_C_COMPILER})
endif()
