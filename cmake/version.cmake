# Writes OUT (a C file defining pt_release and pt_commit) from the project's version and the
# source tree's commit, rewriting it only when either changed, so that `partrace --version` names
# the commit the binary was built from without rebuilding on every build.
execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD OUTPUT_VARIABLE commit
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE failed)
if(failed OR NOT commit)
  set(commit "unknown")
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no OUTPUT_VARIABLE dirty
                  ERROR_QUIET)
  if(dirty)
    set(commit "${commit}+changes")
  endif()
endif()
set(text "/* Written by cmake/version.cmake. */\nconst char pt_release[] = \"${VERSION}\";\nconst char pt_commit[] = \"${commit}\";\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
