# What `cmake --install` puts where, and the packages CPack makes of it (.deb, .tar.gz):
#   bin/partrace, bin/pt_model_config
#   lib/libpartrace.so          (record finds it in ../lib beside bin/partrace)
#   lib/libpartrace_reader.so   (the reader for the Python module, python/)
#   share/man/man1/partrace*.1  (made from the commands' own help tables: partrace help --man)
#   share/bash-completion/completions/partrace, share/zsh/site-functions/_partrace
#   share/doc/partrace/         (README and docs/)
include(GNUInstallDirs)
install(TARGETS partrace_cli pt_model_config RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS partrace_reader LIBRARY DESTINATION lib) # where the Python module looks: ../lib beside bin/partrace
if(TARGET partrace)
  install(TARGETS partrace LIBRARY DESTINATION lib) # where record looks: ../lib beside bin/partrace
endif()

# Man pages and completions, written by the built partrace from its option tables.
set(pt_gen ${CMAKE_BINARY_DIR}/share)
set(pt_man_pages ${pt_gen}/man1/partrace.1)
foreach(cmd record info dump report diff compare whatif export check help)
  list(APPEND pt_man_pages ${pt_gen}/man1/partrace-${cmd}.1)
endforeach()
add_custom_command(OUTPUT ${pt_man_pages} ${pt_gen}/completion/partrace ${pt_gen}/completion/_partrace
  COMMAND sh ${PROJECT_SOURCE_DIR}/cmake/help_files.sh $<TARGET_FILE:partrace_cli> ${pt_gen}
  DEPENDS partrace_cli ${PROJECT_SOURCE_DIR}/cmake/help_files.sh
  COMMENT "man pages and shell completions from partrace's help")
add_custom_target(pt_man ALL DEPENDS ${pt_man_pages})
install(FILES ${pt_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${pt_gen}/completion/partrace DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES ${pt_gen}/completion/_partrace DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions)
install(FILES README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_PACKAGE_NAME partrace)
set(CPACK_PACKAGE_VENDOR "partrace")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "where the time of a multi-GPU LLM inference job goes, and which layout to run")
set(CPACK_PACKAGE_CONTACT "partrace developers")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
